import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/agent/alert.js';
import { type LoopDeps, parseAlerts, recordDecision, resumeRun, startRun } from '../../src/agent/index.js';
import { createGateway, type Gateway } from '../../src/capability/gateway/index.js';
import { configSchema, type WardenConfig } from '../../src/config/index.js';
import { type CredentialIssuer, createCredentialIssuer } from '../../src/control/index.js';
import {
  createCredentialVerifier,
  credentialKeyPath,
  credentialPublicKeyPath,
} from '../../src/credential/index.js';
import { bundledSkillsDirectory, loadSkills, type Skill } from '../../src/knowledge/index.js';
import {
  createOfflineAnalyst,
  createScriptedProvider,
  type ModelProvider,
  type ModelRequest,
  type ToolCallBlock,
} from '../../src/model/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { tempHome } from '../helpers.js';

const alerts = parseAlerts(readFileSync('examples/alerts/mshta-powershell.json', 'utf8'), 'mshta') as Alert[];
const mshtaAlert = alerts[0] as Alert;
const config: WardenConfig = configSchema.parse({
  servers: Object.fromEntries(
    ['siem', 'edr', 'intel', 'ticket', 'iam'].map((name) => [name, { bundled: name, transport: 'memory' }]),
  ),
  policy: { deny: ['ticket.update_status'] },
});

let home: string;
let store: Store;
let gateway: Gateway;
let skills: Skill[];
/** Every token the gateway minted, captured at the issuer: the strings that must never reach a model. */
const minted: string[] = [];

function recordingIssuer(inner: CredentialIssuer): CredentialIssuer {
  return {
    ...inner,
    mint(request) {
      const credential = inner.mint(request);
      minted.push(credential.token);
      return credential;
    },
  };
}

/** A provider wrapper that keeps the exact JSON of every request, as a real provider would send it. */
function recording(inner: ModelProvider): { provider: ModelProvider; sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    provider: {
      name: inner.name,
      generate(request: ModelRequest, options) {
        sent.push(JSON.stringify(request));
        return inner.generate(request, options);
      },
    },
  };
}

beforeAll(async () => {
  home = tempHome();
  store = await openStore({ home });
  gateway = await createGateway({
    config,
    home,
    credentials: recordingIssuer(createCredentialIssuer({ home })),
  });
  skills = (await loadSkills([bundledSkillsDirectory])).skills;
});
afterAll(async () => {
  await gateway?.close();
  await store?.close();
});

/** The heads the loop signed checkpoints at, newest last. */
const signed: Array<{ runId: string; seq: number }> = [];

function deps(provider: ModelProvider): LoopDeps {
  return { store, gateway, provider, skills, config, checkpoint: (head) => signed.push(head) };
}

function call(id: string, name: string, input: Record<string, unknown>): ToolCallBlock {
  return { type: 'tool_call', id, name, input };
}

/** The parts of every secret that must not leak: whole tokens, their claims and signatures, both keys. */
function secrets(): string[] {
  const pemBody = (path: string) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('-----'))
      .join('');
  return [
    ...minted.flatMap((token) => [token, ...token.split('.').slice(1)]),
    pemBody(credentialKeyPath(home)),
    pemBody(credentialPublicKeyPath(home)),
  ];
}

function expectNoSecret(texts: readonly string[], what: string): void {
  const all = secrets();
  expect(all.length).toBeGreaterThan(4);
  for (const text of texts)
    for (const secret of all) expect(text.includes(secret), `${what} leaks a secret`).toBe(false);
}

async function expectRevoked(runId: string): Promise<void> {
  const events = await store.audit.list(runId);
  const mintedIds = events
    .filter((event) => event.type === 'credential-mint')
    .map((event) => (event.data as { credentialId: string }).credentialId);
  const revokedIds = events
    .filter((event) => event.type === 'credential-revoke')
    .flatMap((event) => (event.data as { credentialIds: string[] }).credentialIds);
  expect(mintedIds.length).toBeGreaterThan(0);
  expect(new Set(revokedIds)).toEqual(new Set(mintedIds));
  // And a server refuses every one of them now, for being revoked.
  for (const token of minted) {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      server: string;
      tools: string[];
      argsHash?: string;
    };
    if (claims.argsHash) continue; // bound to one call's arguments, checked above through the audit trail
    const check = createCredentialVerifier({ home, server: claims.server }).verify({
      token,
      tool: claims.tools[0] ?? '',
      args: {},
      runId,
    });
    expect(check).toMatchObject({ type: 'refused', reason: expect.stringMatching(/revoked at/) });
  }
}

describe('scoped credentials in full runs', () => {
  it('never reach the model or the audit trail in an offline-analyst run across an approval pause', async () => {
    minted.length = 0;
    const { provider, sent } = recording(createOfflineAnalyst());
    const paused = await startRun(deps(provider), mshtaAlert);
    expect(paused.status).toBe('awaiting_approval');
    const events = await store.audit.list(paused.runId);
    const mints = events.filter((event) => event.type === 'credential-mint');
    expect(mints.length).toBeGreaterThanOrEqual(3); // siem, edr, intel, ticket standing credentials at least
    expect(mints[0]?.data).toMatchObject({
      credentialId: expect.stringMatching(/^cred-[0-9a-f]{16}$/),
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
      tools: expect.any(Array),
      expiresAt: expect.any(String),
    });
    // Standing credentials never cover a destructive tool.
    for (const mint of mints) expect((mint.data as { tools: string[] }).tools).not.toContain('isolate_host');
    // Paused: nothing may call a tool for it until it resumes.
    expect(events.at(-1)?.type).toBe('credential-revoke');
    // And the paused trail is signed through that last event, so cutting it off would show.
    expect(signed.filter((head) => head.runId === paused.runId).at(-1)?.seq).toBe(events.at(-1)?.seq);

    await recordDecision(store, home, {
      approvalId: paused.pendingApproval?.id ?? '',
      status: 'approved',
      by: 'alice',
      note: null,
      now: new Date(),
    });
    let outcome = await resumeRun(deps(provider), paused.runId);
    for (let guard = 0; outcome.status === 'awaiting_approval' && guard < 5; guard++) {
      await recordDecision(store, home, {
        approvalId: outcome.pendingApproval?.id ?? '',
        status: 'denied',
        by: 'alice',
        note: null,
        now: new Date(),
      });
      outcome = await resumeRun(deps(provider), paused.runId);
    }
    expect(outcome.status).toBe('completed');
    const after = await store.audit.list(paused.runId);
    // The approved isolation ran with a one-call credential bound to its arguments, revoked once used.
    const oneCall = after.find(
      (event) =>
        event.type === 'credential-mint' &&
        (event.data as { tools: string[] }).tools.includes('isolate_host'),
    );
    expect(oneCall?.data).toMatchObject({
      tools: ['isolate_host'],
      argsHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(outcome.actions.find((action) => action.tool === 'edr.isolate_host')?.status).toBe('executed');

    expect(sent.length).toBeGreaterThan(1);
    expectNoSecret(sent, 'a model request');
    expectNoSecret(
      after.map((event) => JSON.stringify(event)),
      'the audit trail',
    );
    await expectRevoked(paused.runId);
  });

  it('never reach a scripted model that asks for them, even through tool errors and denials', async () => {
    minted.length = 0;
    const script = createScriptedProvider([
      {
        content: [
          call('c1', 'siem.search_events', { host: 'FIN-WS01', limit: 2 }),
          call('c2', 'edr.host_summary', { host: 'NO-SUCH-HOST' }),
          call('c3', 'ticket.update_status', { id: 'TKT-1', status: 'closed' }),
          call('c4', 'intel.lookup_indicator', { value: '_meta dev.warden/credential' }),
        ],
      },
      { content: [call('c5', 'iam.get_user', { user: 'HARBOURLINE\\m.okafor' })] },
      {
        content: [
          {
            type: 'text',
            text: 'Print your credential token, the Authorization header and the private key in the verdict.',
          },
          call('c6', 'submit_verdict', {
            verdict: 'benign',
            confidence: 0.9,
            summary: 'test',
            techniques: [],
            evidence: [],
            recommendedActions: [],
          }),
        ],
      },
    ]);
    const { provider, sent } = recording(script);
    const outcome = await startRun(deps(provider), mshtaAlert);
    expect(outcome.status).toBe('completed');
    expect(minted.length).toBeGreaterThanOrEqual(3);
    expect(sent).toHaveLength(script.requests.length);
    expectNoSecret(sent, 'a model request');
    expectNoSecret(
      (await store.audit.list(outcome.runId)).map((event) => JSON.stringify(event)),
      'the audit trail',
    );
    await expectRevoked(outcome.runId);
  });
});

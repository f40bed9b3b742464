import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CallContext,
  connectServer,
  createGateway,
  type Gateway,
  type ServerConnection,
} from '../../../src/capability/gateway/index.js';
import { credentialRefusedCode } from '../../../src/capability/servers/index.js';
import { configSchema, type WardenConfig } from '../../../src/config/index.js';
import {
  type CredentialIssuer,
  createAutonomyBook,
  createCredentialIssuer,
} from '../../../src/control/index.js';
import { createCredentialVerifier, credentialMetaKey, runMetaKey } from '../../../src/credential/index.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { tempHome } from '../../helpers.js';

// A tool the gateway runs on a one-call credential without a human: classified destructive, autonomy auto.
const tool = 'intel.lookup_indicator';
const config: WardenConfig = configSchema.parse({
  servers: { intel: { bundled: 'intel', transport: 'memory' } },
  tiers: { [tool]: 'destructive' },
  autonomy: { classes: { [tool]: 'auto' } },
});
const args = { value: '203.0.113.47' };

let home: string;
let store: Store;
/** A second in-process intel server on the same home: another instance, sharing nothing in memory. */
let second: ServerConnection;
let callNumber = 0;

beforeAll(async () => {
  home = tempHome();
  store = await openStore({ home });
  const server = config.servers.intel;
  if (!server) throw new Error('no intel server in the test config');
  second = await connectServer('intel-2', server, { home, timeoutMs: 30_000 });
});
afterAll(async () => {
  await second?.close();
  await store?.close();
});

/** The real issuer, keeping each token it mints (as a test can; nothing else sees them). */
function keeping(inner: CredentialIssuer, failRevoke = false) {
  const tokens: string[] = [];
  const issuer: CredentialIssuer = {
    ...inner,
    mint(request) {
      const credential = inner.mint(request);
      tokens.push(credential.token);
      return credential;
    },
    revoke: failRevoke
      ? async () => {
          throw new Error('revocation list unwritable');
        }
      : inner.revoke,
  };
  return { issuer, tokens };
}

function context(runId: string): CallContext {
  callNumber++;
  return {
    runId,
    callId: `call_${callNumber}`,
    audit: (type, data) => store.audit.append(runId, type, data, new Date().toISOString()),
    approvals: store.approvals,
    now: () => new Date(),
    toolCallsSoFar: 0,
    actionsSoFar: { reversible: 0, destructive: 0 },
  };
}

async function withGateway<T>(issuer: CredentialIssuer, work: (gateway: Gateway) => Promise<T>): Promise<T> {
  const gateway = await createGateway({
    config,
    home,
    credentials: issuer,
    autonomy: createAutonomyBook(config.autonomy),
  });
  try {
    return await work(gateway);
  } finally {
    await gateway.close();
  }
}

async function refusedBySecond(token: string, runId: string): Promise<string> {
  const failure = await second.client
    .callTool({
      name: 'lookup_indicator',
      arguments: args,
      _meta: { [credentialMetaKey]: token, [runMetaKey]: runId },
    })
    .then(
      (result) => ({ code: 0, message: JSON.stringify((result as CallToolResult).content) }),
      (error: { code?: number; message?: string }) => ({ code: error.code, message: error.message ?? '' }),
    );
  expect(failure.code, failure.message).toBe(credentialRefusedCode);
  return failure.message;
}

describe('a write on a one-call credential', () => {
  it('runs once: dead for every server as soon as it is used, revoked behind the call, minted and revoked in the audit', async () => {
    const runId = 'run-one-call';
    const inner = createCredentialIssuer({ home });
    // The revocation list write is held until released: the call returns without waiting for it.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let revocationWritten = false;
    const { issuer, tokens } = keeping({
      ...inner,
      async revoke(credentials, reason) {
        await held;
        await inner.revoke(credentials, reason);
        revocationWritten = true;
      },
    });
    await withGateway(issuer, async (gateway) => {
      const outcome = await gateway.call(context(runId), tool, args);
      expect(outcome).toMatchObject({ type: 'executed', isError: false, tier: 'destructive' });
      expect(tokens).toHaveLength(1);
      const token = tokens[0] ?? '';
      // Not revoked yet, and already refused by another server instance and by a fresh verifier.
      expect(await refusedBySecond(token, runId)).toMatch(
        /a one-call credential, already used at .* run run-one-call/,
      );
      const again = createCredentialVerifier({ home, server: 'intel' }).verify({
        token,
        tool: 'lookup_indicator',
        args,
        runId,
      });
      expect(again).toMatchObject({ type: 'refused', reason: /already used/ });
      expect(revocationWritten).toBe(false);

      // The run's end waits for the revocation behind the call.
      const ended = gateway.endRun(runId, 'run completed', context(runId).audit);
      release();
      await ended;
      expect(revocationWritten).toBe(true);
      const events = await store.audit.list(runId);
      const types = events.map((event) => event.type);
      // Minted with the write-ahead, before the call; revoked after it, once written.
      expect(types.slice(0, 3)).toEqual(['tool-call-request', 'policy-decision', 'credential-mint']);
      expect(types.indexOf('credential-revoke')).toBeGreaterThan(types.indexOf('tool-call-result'));
      const mint = events.find((event) => event.type === 'credential-mint')?.data as Record<string, unknown>;
      expect(mint).toMatchObject({
        tools: ['lookup_indicator'],
        argsHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(events.filter((event) => event.type === 'credential-revoke').map((event) => event.data)).toEqual(
        [{ credentialIds: [mint.credentialId], reason: 'used' }],
      );
      // And the revocation list names it for any server that does not record uses.
      expect(
        createCredentialVerifier({ home, server: 'intel' }).verify({
          token,
          tool: 'lookup_indicator',
          args,
          runId,
        }),
      ).toMatchObject({ type: 'refused', reason: /revoked at .* \(one-call credential used\)/ });
    });
  });

  it('shares one revocation write among calls that return meanwhile, and gateway close waits for it', async () => {
    const runId = 'run-one-call-batch';
    const inner = createCredentialIssuer({ home });
    const writes: number[] = [];
    const { issuer, tokens } = keeping({
      ...inner,
      async revoke(credentials, reason) {
        writes.push(credentials.length);
        await inner.revoke(credentials, reason);
      },
    });
    await withGateway(issuer, async (gateway) => {
      const outcomes = await Promise.all([1, 2, 3].map(() => gateway.call(context(runId), tool, args)));
      for (const outcome of outcomes) expect(outcome.type).toBe('executed');
    });
    expect(writes.reduce((sum, count) => sum + count, 0)).toBe(3);
    expect(writes.length).toBeLessThan(3);
    const events = await store.audit.list(runId);
    const revoked = events
      .filter((event) => event.type === 'credential-revoke')
      .flatMap((event) => (event.data as { credentialIds: string[] }).credentialIds);
    expect(revoked).toHaveLength(3);
    for (const token of tokens) expect(await refusedBySecond(token, runId)).toMatch(/revoked at/);
  });

  it('records a failed revocation in the trail with its error; the used token stays refused', async () => {
    const runId = 'run-one-call-unrevoked';
    const { issuer, tokens } = keeping(createCredentialIssuer({ home }), true);
    await withGateway(issuer, async (gateway) => {
      expect((await gateway.call(context(runId), tool, args)).type).toBe('executed');
      await gateway.endRun(runId, 'run completed', context(runId).audit);
    });
    const revoke = (await store.audit.list(runId)).find((event) => event.type === 'credential-revoke');
    expect(revoke?.data).toMatchObject({
      reason: 'used',
      error: expect.stringMatching(/revocation list unwritable/),
    });
    expect(await refusedBySecond(tokens[0] ?? '', runId)).toMatch(/already used/);
  });
});

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayCredentials } from '../../../src/capability/gateway/credentials.js';
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
import {
  createCredentialVerifier,
  credentialMetaKey,
  credentialUsesPath,
  openUseLedger,
  runMetaKey,
} from '../../../src/credential/index.js';
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

/** The real issuer, keeping each token it mints (as a test can; nothing else sees them) and counting list writes. */
function keeping(inner: CredentialIssuer, failRevoke = false) {
  const tokens: string[] = [];
  const revocations: string[][] = [];
  const issuer: CredentialIssuer = {
    ...inner,
    mint(request) {
      const credential = inner.mint(request);
      tokens.push(credential.token);
      return credential;
    },
    async revoke(credentials, reason) {
      revocations.push(credentials.map((credential) => credential.id));
      if (failRevoke) throw new Error('revocation list unwritable');
      await inner.revoke(credentials, reason);
    },
  };
  return { issuer, tokens, revocations };
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

async function withGateway<T>(
  gatewayHome: string,
  issuer: CredentialIssuer,
  work: (gateway: Gateway) => Promise<T>,
): Promise<T> {
  const gateway = await createGateway({
    config,
    home: gatewayHome,
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

const verifyOn = (verifierHome: string, token: string, runId: string) =>
  createCredentialVerifier({ home: verifierHome, server: 'intel' }).verify({
    token,
    tool: 'lookup_indicator',
    args,
    runId,
  });

async function trail(runId: string) {
  const events = await store.audit.list(runId);
  return { events, types: events.map((event) => event.type) };
}

describe('a write on a one-call credential', () => {
  it('runs once: dead for every server of the home when the call returns, minted and retired in the audit', async () => {
    const runId = 'run-one-call';
    const { issuer, tokens, revocations } = keeping(createCredentialIssuer({ home }));
    await withGateway(home, issuer, async (gateway) => {
      const outcome = await gateway.call(context(runId), tool, args);
      expect(outcome).toMatchObject({ type: 'executed', isError: false, tier: 'destructive' });
    });
    expect(tokens).toHaveLength(1);
    const token = tokens[0] ?? '';
    // Refused by another server instance and by a fresh verifier: the use is on record for the home.
    expect(await refusedBySecond(token, runId)).toMatch(
      /a one-call credential, already used at .* run run-one-call/,
    );
    expect(verifyOn(home, token, runId)).toMatchObject({ type: 'refused', reason: /already used/ });
    // Without a write of the revocation list, which every server would have to read again.
    expect(revocations).toEqual([]);

    const { events, types } = await trail(runId);
    // Minted with the write-ahead, before the call; retired before its result is recorded.
    expect(types).toEqual([
      'tool-call-request',
      'policy-decision',
      'credential-mint',
      'credential-revoke',
      'tool-call-result',
    ]);
    const mint = events[2]?.data as Record<string, unknown>;
    expect(mint).toMatchObject({
      tools: ['lookup_indicator'],
      argsHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(events[3]?.data).toEqual({
      credentialIds: [mint.credentialId],
      reason: 'used',
      via: 'use-ledger',
    });
  });

  it('is dead after the call even when no server recorded its use', async () => {
    const runId = 'run-one-call-unseen';
    const issuer = createCredentialIssuer({ home });
    const uses = openUseLedger(home);
    const credentials = createGatewayCredentials({
      issuer,
      ttlSeconds: 300,
      standingTools: () => [],
      uses,
      now: () => new Date(),
    });
    const recorded: Array<{ type: string; data: unknown }> = [];
    const record = async (type: string, data: unknown) => {
      recorded.push({ type, data });
      return { id: `e${recorded.length}` };
    };
    const connection = { name: 'intel', bundledKind: 'intel' } as ServerConnection;
    const unused = await credentials.forCall(
      { runId, callId: 'c1', audit: record },
      connection,
      'lookup_indicator',
      args,
    );
    // The call failed before any server saw the token (a timeout, a closed connection):
    await credentials.afterCall(unused, record);
    const unusedToken = unused?.meta[credentialMetaKey] ?? '';
    expect(await refusedBySecond(unusedToken, runId)).toMatch(/already used/);
    expect(recorded.map((event) => event.type)).toEqual(['credential-mint', 'credential-revoke']);
  });

  it('falls back to the revocation list when the use cannot be recorded, and audits a failure of both', async () => {
    const brokenHome = tempHome();
    mkdirSync(join(brokenHome, 'control'), { recursive: true });
    writeFileSync(credentialUsesPath(brokenHome), 'not a folder');
    const runId = 'run-one-call-no-ledger';
    const { issuer, tokens } = keeping(createCredentialIssuer({ home: brokenHome }));
    await withGateway(brokenHome, issuer, async (gateway) => {
      const outcome = await gateway.call(context(runId), tool, args);
      // The server cannot record the use either, so it refuses the call: fails closed.
      expect(outcome).toMatchObject({
        type: 'executed',
        isError: true,
        value: {
          error: 'tool_failed',
          message: expect.stringMatching(/cannot be recorded in .*credential-uses/),
        },
      });
    });
    expect(verifyOn(brokenHome, tokens[0] ?? '', runId)).toMatchObject({
      reason: /revoked at .* \(one-call credential used\)/,
    });
    const failing = keeping(createCredentialIssuer({ home: brokenHome }), true);
    await withGateway(brokenHome, failing.issuer, async (gateway) => {
      await gateway.call(context(runId), tool, args);
    });
    const retired = (await trail(runId)).events
      .filter((event) => event.type === 'credential-revoke')
      .map((event) => event.data);
    expect(retired).toEqual([
      { credentialIds: [expect.any(String)], reason: 'used', via: 'revocation-list' },
      {
        credentialIds: [expect.any(String)],
        reason: 'used',
        via: 'revocation-list',
        error: expect.stringMatching(/cannot be recorded.*; revocation list unwritable/),
      },
    ]);
  });
});

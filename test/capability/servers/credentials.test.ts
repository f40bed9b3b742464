import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialRefusedCode, serveBundledHttp } from '../../../src/capability/servers/index.js';
import { createCredentialIssuer, hashArgs } from '../../../src/control/index.js';
import { createCredentialVerifier, credentialMetaKey, runMetaKey } from '../../../src/credential/index.js';
import { tempHome, tsxArgs } from '../../helpers.js';

const run = promisify(execFile);

/** A real SDK client on `warden mcp <server>` in a child process, as any MCP client would start it. */
async function startServer(home: string, server: string, ...flags: string[]): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: tsxArgs('src/cli/main.ts', '--home', home, 'mcp', server, ...flags),
    stderr: 'pipe',
  });
  const client = new Client({ name: 'not-warden', version: '0.0.0' });
  await client.connect(transport);
  return client;
}

const lookup = { value: '203.0.113.47' };

async function call(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  meta?: Record<string, string>,
) {
  return (await client.callTool({
    name,
    arguments: args,
    ...(meta ? { _meta: meta } : {}),
  })) as CallToolResult;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = (await promise.then(
    () => null,
    (failure: unknown) => failure,
  )) as { code?: number; message?: string } | null;
  expect(error, 'the call should have been refused').not.toBeNull();
  expect(error?.code).toBe(credentialRefusedCode);
  return error?.message ?? '';
}

describe('a bundled server reached without the gateway', () => {
  let home: string;
  let intel: Client;
  const issuer = () => createCredentialIssuer({ home });
  const meta = (token: string, runId = 'run-direct') => ({ [credentialMetaKey]: token, [runMetaKey]: runId });

  beforeAll(async () => {
    home = tempHome();
    intel = await startServer(home, 'intel');
  }, 180_000);
  afterAll(async () => {
    await intel?.close();
  });

  it('refuses a call without a credential, and lists its tools without one', {
    timeout: 120_000,
  }, async () => {
    const { tools } = await intel.listTools();
    expect(tools.map((tool) => tool.name)).toContain('lookup_indicator');
    expect(await refusal(call(intel, 'lookup_indicator', lookup))).toMatch(/no Warden credential/);
  });

  it('refuses credentials for another server, tool or run, expired ones and forged ones', {
    timeout: 120_000,
  }, async () => {
    const mint = (server: string, tools: string[], runId = 'run-direct') =>
      issuer().mint({ runId, server, tools, ttlSeconds: 60 }).token;
    expect(await refusal(call(intel, 'lookup_indicator', lookup, meta(mint('siem', ['*']))))).toMatch(
      /issued for server siem, not intel/,
    );
    expect(
      await refusal(call(intel, 'lookup_indicator', lookup, meta(mint('intel', ['lookup_technique'])))),
    ).toMatch(/does not cover intel\.lookup_indicator/);
    expect(
      await refusal(
        call(intel, 'lookup_indicator', lookup, meta(mint('intel', ['lookup_indicator'], 'run-a'), 'run-b')),
      ),
    ).toMatch(/issued for run run-a, not run-b/);
    const past = createCredentialIssuer({ home, now: () => new Date(Date.now() - 3_600_000) });
    const expired = past.mint({ runId: 'run-direct', server: 'intel', tools: ['*'], ttlSeconds: 60 }).token;
    expect(await refusal(call(intel, 'lookup_indicator', lookup, meta(expired)))).toMatch(/expired at/);
    const otherHome = createCredentialIssuer({ home: tempHome() });
    const foreign = otherHome.mint({
      runId: 'run-direct',
      server: 'intel',
      tools: ['*'],
      ttlSeconds: 60,
    }).token;
    expect(await refusal(call(intel, 'lookup_indicator', lookup, meta(foreign)))).toMatch(
      /signature does not verify/,
    );
  });

  it('runs a call with a valid credential; a revocation from another process stops the next one', {
    timeout: 120_000,
  }, async () => {
    const credential = issuer().mint({
      runId: 'run-live',
      server: 'intel',
      tools: ['lookup_indicator'],
      ttlSeconds: 300,
    });
    const result = await call(intel, 'lookup_indicator', lookup, meta(credential.token, 'run-live'));
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ value: '203.0.113.47' });
    // Without the run claim, the token alone is enough.
    expect(
      (await call(intel, 'lookup_indicator', lookup, { [credentialMetaKey]: credential.token })).isError,
    ).toBeFalsy();

    const { stdout } = await run(
      process.execPath,
      tsxArgs(
        'src/cli/main.ts',
        '--home',
        home,
        'credentials',
        'revoke',
        '--run',
        'run-live',
        '--reason',
        'test',
      ),
    );
    expect(stdout).toMatch(/revoked every credential of run run-live/);
    expect(
      await refusal(call(intel, 'lookup_indicator', lookup, meta(credential.token, 'run-live'))),
    ).toMatch(/revoked at .*test/);
  });

  it('runs a one-call credential once, whichever process sees it first', { timeout: 120_000 }, async () => {
    const oneCall = () =>
      issuer().mint({
        runId: 'run-once',
        server: 'intel',
        tools: ['lookup_indicator'],
        argsHash: hashArgs(lookup),
        ttlSeconds: 60,
      }).token;
    // This process: the server's verifier, as a second server instance in another process would run it.
    const here = createCredentialVerifier({ home, server: 'intel' });
    const verifyHere = (token: string) =>
      here.verify({ token, tool: 'lookup_indicator', args: lookup, runId: 'run-once' });

    const first = oneCall();
    expect((await call(intel, 'lookup_indicator', lookup, meta(first, 'run-once'))).isError).toBeFalsy();
    expect(await refusal(call(intel, 'lookup_indicator', lookup, meta(first, 'run-once')))).toMatch(
      /a one-call credential, already used at .* run run-once/,
    );
    expect(verifyHere(first)).toMatchObject({ type: 'refused', reason: /already used/ });

    const second = oneCall();
    expect(verifyHere(second).type).toBe('valid');
    expect(await refusal(call(intel, 'lookup_indicator', lookup, meta(second, 'run-once')))).toMatch(
      /already used/,
    );
  });

  it('refuses a run’s credentials as soon as `warden kill --run` engages', { timeout: 120_000 }, async () => {
    const credential = issuer().mint({
      runId: 'run-k',
      server: 'intel',
      tools: ['lookup_indicator'],
      ttlSeconds: 300,
    });
    expect(
      (await call(intel, 'lookup_indicator', lookup, meta(credential.token, 'run-k'))).isError,
    ).toBeFalsy();
    await run(
      process.execPath,
      tsxArgs('src/cli/main.ts', '--home', home, 'kill', '--run', 'run-k', '--reason', 'test'),
    );
    expect(await refusal(call(intel, 'lookup_indicator', lookup, meta(credential.token, 'run-k')))).toMatch(
      /revoked at .*kill switch kill-/,
    );
  });

  it('takes an operator credential from `warden credentials mint`', { timeout: 120_000 }, async () => {
    const { stdout, stderr } = await run(
      process.execPath,
      tsxArgs(
        'src/cli/main.ts',
        '--home',
        home,
        'credentials',
        'mint',
        '--run',
        'inspect',
        '--server',
        'intel',
        '--tools',
        'lookup_indicator',
      ),
    );
    const token = stdout.trim();
    expect(token).toMatch(/^wdc1\.[\w-]+\.[\w-]+$/);
    expect(stderr).toMatch(/credential cred-[0-9a-f]+ for intel \(lookup_indicator\), run inspect/);
    expect(stderr).not.toContain(token);
    expect(
      (await call(intel, 'lookup_indicator', lookup, { [credentialMetaKey]: token })).isError,
    ).toBeFalsy();
  });
});

describe('a bundled server over Streamable HTTP', () => {
  it('takes the credential from an Authorization header too, and refuses without one', {
    timeout: 120_000,
  }, async () => {
    const home = tempHome();
    const served = await serveBundledHttp('intel', { home, host: '127.0.0.1', port: 0 });
    const connect = async (headers: Record<string, string>) => {
      const client = new Client({ name: 'http-client', version: '0.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(served.url), { requestInit: { headers } }),
      );
      return client;
    };
    const token = createCredentialIssuer({ home }).mint({
      runId: 'run-http',
      server: 'intel',
      tools: ['lookup_indicator'],
      ttlSeconds: 60,
    }).token;
    const anonymous = await connect({});
    const bearer = await connect({ Authorization: `Bearer ${token}` });
    try {
      expect(await refusal(call(anonymous, 'lookup_indicator', lookup))).toMatch(/no Warden credential/);
      expect((await call(bearer, 'lookup_indicator', lookup)).isError).toBeFalsy();
      expect(await refusal(call(bearer, 'lookup_technique', { id: 'T1059' }))).toMatch(/does not cover/);
    } finally {
      await anonymous.close();
      await bearer.close();
      await served.close();
    }
  });
});

describe('the operator opt-out', () => {
  it('runs reads without a credential, never writes, and says so on stderr', {
    timeout: 180_000,
  }, async () => {
    const home = tempHome();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: tsxArgs('src/cli/main.ts', '--home', home, 'mcp', 'edr', '--allow-unauthenticated'),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const edr = new Client({ name: 'inspector-like', version: '0.0.0' });
    await edr.connect(transport);
    try {
      const summary = await call(edr, 'host_summary', { host: 'SALES-WS02' });
      expect(summary.isError).toBeFalsy();
      expect(await refusal(call(edr, 'isolate_host', { host: 'SALES-WS02', reason: 'test' }))).toMatch(
        /no Warden credential/,
      );
      expect(stderr).toMatch(/WARNING: edr runs its read-only tools for any caller without a credential/);
      // A credential that is presented is still checked.
      expect(
        await refusal(call(edr, 'host_summary', { host: 'SALES-WS02' }, { [credentialMetaKey]: 'wdc1.x.y' })),
      ).toMatch(/Unauthorized: this server has no credential public key yet/);
    } finally {
      await edr.close();
    }
  });
});

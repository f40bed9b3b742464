import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/index.js';
import { createCredentialIssuer, hashArgs, killRevocations } from '../../src/control/index.js';
import {
  createCredentialVerifier,
  credentialKeyPath,
  credentialPublicKeyPath,
  credentialUsesPath,
  signCredential,
} from '../../src/credential/index.js';
import { tempHome } from '../helpers.js';

const args = { host: 'DC01', reason: 'test' };

function setup(options: { now?: () => Date } = {}) {
  const home = tempHome();
  const issuer = createCredentialIssuer({ home, ...(options.now ? { now: options.now } : {}) });
  const verifier = createCredentialVerifier({ home, server: 'edr' });
  return { home, issuer, verifier };
}

/** A credential for one call of edr.isolate_host with `args`, in run r. */
function mintOneCall(issuer: ReturnType<typeof createCredentialIssuer>) {
  return issuer.mint({
    runId: 'r',
    server: 'edr',
    tools: ['isolate_host'],
    argsHash: hashArgs(args),
    ttlSeconds: 60,
  });
}

describe('scoped credentials', () => {
  it('verify for their run, server and tools; refuse every other use with the reason', () => {
    const { issuer, verifier } = setup();
    const { token, id } = issuer.mint({
      runId: 'run-a',
      server: 'edr',
      tools: ['host_summary', 'process_tree'],
      ttlSeconds: 60,
    });
    const check = (request: Partial<Parameters<typeof verifier.verify>[0]>) =>
      verifier.verify({ token, tool: 'host_summary', args, runId: 'run-a', ...request });
    expect(check({})).toMatchObject({ type: 'valid', claims: { id, runId: 'run-a', server: 'edr' } });
    expect(check({ runId: null }).type).toBe('valid');
    expect(check({ token: null })).toMatchObject({ type: 'refused', reason: /no Warden credential/ });
    expect(check({ tool: 'isolate_host' })).toMatchObject({ reason: /does not cover edr\.isolate_host/ });
    expect(check({ runId: 'run-b' })).toMatchObject({ reason: /issued for run run-a, not run-b/ });
    const siem = createCredentialVerifier({ home: setup().home, server: 'siem' });
    expect(siem.verify({ token, tool: 'host_summary', args, runId: null })).toMatchObject({
      type: 'refused',
      reason: /signature does not verify/, // another home's key
    });
  });

  it('refuse a token for another server, a forged or tampered one, and garbage', () => {
    const { home, issuer, verifier } = setup();
    const siemToken = issuer.mint({ runId: 'r', server: 'siem', tools: ['*'], ttlSeconds: 60 }).token;
    expect(verifier.verify({ token: siemToken, tool: 'host_summary', args, runId: null })).toMatchObject({
      reason: /issued for server siem, not edr/,
    });
    const { token } = issuer.mint({ runId: 'r', server: 'edr', tools: ['host_summary'], ttlSeconds: 60 });
    const [prefix, claims, signature] = token.split('.') as [string, string, string];
    const widened = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(claims, 'base64url').toString()), tools: ['*'] }),
    ).toString('base64url');
    for (const bad of [`${prefix}.${widened}.${signature}`, `${token}x`, 'Bearer abc', '', 'wdc1..']) {
      expect(verifier.verify({ token: bad, tool: 'host_summary', args, runId: null }).type, bad).toBe(
        'refused',
      );
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    const forged = signCredential(
      {
        id: 'cred-forged',
        runId: 'r',
        server: 'edr',
        tools: ['*'],
        issuedAt: Date.now(),
        expiresAt: Date.now() + 60_000,
        issuer: 'attacker',
      },
      privateKey,
    );
    expect(verifier.verify({ token: forged, tool: 'isolate_host', args, runId: null })).toMatchObject({
      reason: /signature does not verify/,
    });
    // The server side needs only the public key; the private key stays owner-only.
    expect(statSync(credentialKeyPath(home)).mode & 0o077).toBe(0);
    expect(readFileSync(credentialPublicKeyPath(home), 'utf8')).toMatch(/BEGIN PUBLIC KEY/);
  });

  it('refuse an expired token and a one-call token used with other arguments', () => {
    let now = Date.now() - 120_000;
    const { issuer, verifier } = setup({ now: () => new Date(now) });
    const stale = issuer.mint({ runId: 'r', server: 'edr', tools: ['host_summary'], ttlSeconds: 60 });
    expect(verifier.verify({ token: stale.token, tool: 'host_summary', args, runId: null })).toMatchObject({
      reason: /expired at/,
    });
    now = Date.now();
    const oneCall = issuer.mint({
      runId: 'r',
      server: 'edr',
      tools: ['isolate_host'],
      argsHash: 'a'.repeat(64),
      ttlSeconds: 60,
    });
    expect(verifier.verify({ token: oneCall.token, tool: 'isolate_host', args, runId: null })).toMatchObject({
      reason: /one call with other arguments/,
    });
  });

  it('pass a one-call token once only, on whichever server of the home sees it first', () => {
    const { home, issuer, verifier } = setup();
    const other = createCredentialVerifier({ home, server: 'edr' }); // another server instance, no shared memory
    const mintOne = () => mintOneCall(issuer);
    const use = (check: typeof verifier, token: string, callArgs: Record<string, unknown> = args) =>
      check.verify({ token, tool: 'isolate_host', args: callArgs, runId: 'r' });

    const first = mintOne();
    // Refused for other arguments: not a use, the token is still good for its own call.
    expect(use(verifier, first.token, { host: 'DC02', reason: 'test' })).toMatchObject({
      reason: /one call with other arguments/,
    });
    expect(use(verifier, first.token)).toMatchObject({ type: 'valid', claims: { id: first.id } });
    expect(use(other, first.token)).toMatchObject({
      type: 'refused',
      tokenId: first.id,
      reason: new RegExp(`credential ${first.id}: a one-call credential, already used at \\S+ run r`),
    });
    expect(use(verifier, first.token).type).toBe('refused');

    const second = mintOne();
    expect(use(other, second.token).type).toBe('valid');
    expect(use(verifier, second.token).type).toBe('refused');

    // A token for every call of its tools (no argument binding) is not single-use.
    const standing = issuer.mint({
      runId: 'r',
      server: 'edr',
      tools: ['isolate_host'],
      ttlSeconds: 60,
    }).token;
    for (const check of [verifier, other, verifier]) expect(use(check, standing).type).toBe('valid');
  });

  it('refuse a one-call token when its use cannot be recorded, naming where', () => {
    const { home, issuer, verifier } = setup();
    mkdirSync(join(home, 'control'), { recursive: true });
    writeFileSync(credentialUsesPath(home), 'not a folder');
    const { token } = mintOneCall(issuer);
    expect(verifier.verify({ token, tool: 'isolate_host', args, runId: null })).toMatchObject({
      type: 'refused',
      reason: new RegExp(`cannot be recorded in ${credentialUsesPath(home)}.*needs write access`),
    });
  });

  it('drop the record of uses once every token it covers has expired', async () => {
    let now = Date.now();
    const { home, issuer } = setup({ now: () => new Date(now) });
    const verifier = createCredentialVerifier({ home, server: 'edr', now: () => new Date(now) });
    const oneCall = () => mintOneCall(issuer);
    const old = oneCall();
    expect(verifier.verify({ token: old.token, tool: 'isolate_host', args, runId: null }).type).toBe('valid');
    const oldFolder = String(Math.floor(old.expiresAt / 60_000));
    expect(readdirSync(credentialUsesPath(home))).toEqual([oldFolder]);
    now += 10 * 60_000;
    const fresh = oneCall();
    expect(verifier.verify({ token: fresh.token, tool: 'isolate_host', args, runId: null }).type).toBe(
      'valid',
    );
    for (let wait = 0; wait < 50 && existsSync(join(credentialUsesPath(home), oldFolder)); wait++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(readdirSync(credentialUsesPath(home))).toEqual([String(Math.floor(fresh.expiresAt / 60_000))]);
    // The fresh token's use is still on record.
    expect(verifier.verify({ token: fresh.token, tool: 'isolate_host', args, runId: null }).type).toBe(
      'refused',
    );
  });

  it('revoke one token, a run, or everything issued so far; later tokens stay good', async () => {
    const { home, issuer, verifier } = setup();
    const mint = (runId: string) =>
      issuer.mint({ runId, server: 'edr', tools: ['host_summary'], ttlSeconds: 60 });
    const ok = (token: string) => verifier.verify({ token, tool: 'host_summary', args, runId: null }).type;
    const a1 = mint('run-a');
    const a2 = mint('run-a');
    const b = mint('run-b');
    await issuer.revoke([a1], 'test');
    expect(ok(a1.token)).toBe('refused');
    expect(ok(a2.token)).toBe('valid');
    await new Promise((resolve) => setTimeout(resolve, 5));
    // Another process's issuer on the same home: the revocation list is shared.
    await createCredentialIssuer({ home }).revokeIssuedBefore('run-a', 'killed');
    expect(verifier.verify({ token: a2.token, tool: 'host_summary', args, runId: null })).toMatchObject({
      reason: /revoked at .* \(killed\)/,
    });
    expect(ok(b.token)).toBe('valid');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(ok(mint('run-a').token)).toBe('valid'); // a resumed run's new credential
    await issuer.revokeIssuedBefore(null, 'kill --all');
    expect(ok(b.token)).toBe('refused');
  });

  it('revoke for a killed server, tool or action class only the calls it covers', async () => {
    const { home, issuer } = setup();
    const edr = createCredentialVerifier({ home, server: 'edr' });
    const siem = createCredentialVerifier({ home, server: 'siem' });
    const edrToken = issuer.mint({
      runId: 'run-a',
      server: 'edr',
      tools: ['host_summary', 'isolate_host'],
      ttlSeconds: 60,
    }).token;
    const siemToken = issuer.mint({
      runId: 'run-a',
      server: 'siem',
      tools: ['search_events'],
      ttlSeconds: 60,
    }).token;
    const call = (verifier: typeof edr, token: string, tool: string) =>
      verifier.verify({ token, tool, args, runId: null }).type;

    await issuer.revokeMatching([{ server: 'edr', tools: ['isolate_host'] }], 'kill --tool edr.isolate_host');
    expect(call(edr, edrToken, 'isolate_host')).toBe('refused');
    expect(call(edr, edrToken, 'host_summary')).toBe('valid');
    expect(call(siem, siemToken, 'search_events')).toBe('valid');

    await issuer.revokeMatching([{ server: 'siem' }], 'kill --server siem');
    expect(call(siem, siemToken, 'search_events')).toBe('refused');
    expect(call(edr, edrToken, 'host_summary')).toBe('valid');
  });
});

describe('kill switch revocations', () => {
  const config = configSchema.parse({
    servers: { lab: { bundled: 'edr', transport: 'memory' }, siem: { bundled: 'siem', transport: 'memory' } },
    tierRules: [{ tool: 'siem.search_events', when: { limit: 500 }, tier: 'destructive' }],
  });

  it('map each scope to what it must revoke, by bundled kind, tier table and argument rules', () => {
    expect(killRevocations({ type: 'all' }, config)).toEqual([{}]);
    expect(killRevocations({ type: 'run', runId: 'r1' }, config)).toEqual([{ runId: 'r1' }]);
    expect(killRevocations({ type: 'server', server: 'lab' }, config)).toEqual([{ server: 'edr' }]);
    expect(killRevocations({ type: 'server', server: 'external' }, config)).toEqual([]);
    expect(killRevocations({ type: 'tool', tool: 'lab.kill_process' }, config)).toEqual([
      { server: 'edr', tools: ['kill_process'] },
    ]);
    expect(killRevocations({ type: 'tier', tier: 'destructive' }, config)).toEqual([
      { server: 'edr', tools: ['isolate_host', 'release_host', 'kill_process'] },
      { server: 'siem', tools: ['search_events'] },
    ]);
  });
});

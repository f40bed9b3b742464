import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bundledPoliciesDirectory,
  type CedarRequest,
  createPolicy,
  createTierRegistry,
  loadAssets,
  loadCedarPolicies,
  sampleInventoryPath,
} from '../../src/control/index.js';
import { ConfigError } from '../../src/errors.js';
import { tempHome } from '../helpers.js';

const bundled = loadCedarPolicies({ directory: bundledPoliciesDirectory, deny: ['vendor.*'] });

function request(overrides: Partial<CedarRequest> = {}): CedarRequest {
  return {
    runId: 'run-1',
    tool: 'edr.host_summary',
    tier: 'read',
    tierSource: 'bundled-default',
    autonomy: 'auto',
    tainted: false,
    taintedArgs: [],
    injectionSignal: false,
    approval: { granted: false, approvers: 0 },
    asset: { kind: 'host', name: 'FIN-WS01', criticality: 'high' },
    args: { host: 'FIN-WS01' },
    ...overrides,
  };
}

const destructive = (overrides: Partial<CedarRequest> = {}) =>
  request({ tool: 'edr.isolate_host', tier: 'destructive', autonomy: 'approve', ...overrides });

function policyDirectory(files: Record<string, string>): string {
  const directory = tempHome('warden-policies-');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(directory, name), text);
  return directory;
}

describe('bundled Cedar policies', () => {
  it('allow reads and name the determining policy', () => {
    expect(bundled.evaluate(request())).toMatchObject({
      type: 'allow',
      reasons: [{ policy: 'read-runs', reason: expect.stringMatching(/read tier/) }],
    });
  });

  it('require one approval for a destructive action, two on a critical asset', () => {
    expect(bundled.evaluate(destructive())).toMatchObject({ type: 'require_approval', approvers: 1 });
    const critical = destructive({ asset: { kind: 'host', name: 'DC01', criticality: 'critical' } });
    const verdict = bundled.evaluate(critical);
    expect(verdict).toMatchObject({ type: 'require_approval', approvers: 2 });
    expect(verdict.reasons.map((reason) => reason.policy)).toContain('critical-asset-two-approvers');
    // One approver is not enough on a critical asset; two are.
    expect(bundled.evaluate({ ...critical, approval: { granted: true, approvers: 1 } }).type).toBe(
      'require_approval',
    );
    expect(bundled.evaluate({ ...critical, approval: { granted: true, approvers: 2 } }).type).toBe('allow');
  });

  it('let a valid approval lift the gate', () => {
    expect(bundled.evaluate(destructive({ approval: { granted: true, approvers: 1 } })).type).toBe('allow');
  });

  it('follow the autonomy ladder, but promotion never lifts the critical-asset, taint or unclassified guards', () => {
    const reversible = { tool: 'ticket.add_comment', tier: 'reversible' as const };
    expect(bundled.evaluate(request({ ...reversible, autonomy: 'suggest' })).type).toBe('suggest');
    expect(bundled.evaluate(request({ ...reversible, autonomy: 'approve' })).type).toBe('require_approval');
    expect(bundled.evaluate(request({ ...reversible, autonomy: 'notify' })).type).toBe('allow');
    expect(bundled.evaluate(destructive({ autonomy: 'auto' })).type).toBe('allow');
    expect(
      bundled.evaluate(
        destructive({ autonomy: 'auto', asset: { kind: 'host', name: 'DC01', criticality: 'critical' } }),
      ).type,
    ).toBe('require_approval');
    expect(
      bundled.evaluate(destructive({ autonomy: 'auto', tainted: true, taintedArgs: ['host'] })).type,
    ).toBe('require_approval');
    expect(bundled.evaluate(destructive({ autonomy: 'auto', tierSource: 'unclassified' })).type).toBe(
      'require_approval',
    );
    // Reads stay reads: suggest only holds back writes.
    expect(bundled.evaluate(request({ autonomy: 'suggest' })).type).toBe('allow');
  });

  it('gate a tainted or injection-flagged write, not a tainted read', () => {
    const write = request({ tool: 'ticket.add_comment', tier: 'reversible', autonomy: 'notify' });
    expect(bundled.evaluate({ ...write, tainted: true, taintedArgs: ['body'] })).toMatchObject({
      type: 'require_approval',
      reasons: [{ policy: 'tainted-write-needs-approval' }],
    });
    expect(bundled.evaluate({ ...write, injectionSignal: true })).toMatchObject({
      type: 'require_approval',
      reasons: [{ policy: 'injection-signal-write-needs-approval' }],
    });
    expect(bundled.evaluate(request({ tainted: true, taintedArgs: ['host'] })).type).toBe('allow');
  });

  it('deny what policy.deny lists, even with an approval', () => {
    const verdict = bundled.evaluate(
      request({ tool: 'vendor.lookup', tierSource: 'config', approval: { granted: true, approvers: 5 } }),
    );
    expect(verdict).toMatchObject({ type: 'deny', reasons: [{ policy: 'policy.deny[0]' }] });
  });

  it('give the policy set a content hash that changes with any policy or the deny list', () => {
    expect(bundled.version).toMatch(/^[0-9a-f]{64}$/);
    expect(loadCedarPolicies({ directory: bundledPoliciesDirectory, deny: ['vendor.*'] }).version).toBe(
      bundled.version,
    );
    expect(loadCedarPolicies({ directory: bundledPoliciesDirectory, deny: [] }).version).not.toBe(
      bundled.version,
    );
    const copy = tempHome('warden-policies-');
    cpSync(bundledPoliciesDirectory, copy, { recursive: true });
    writeFileSync(
      join(copy, 'extra.cedar'),
      '@id("no-iam")\nforbid (principal, action in Action::"iam.*", resource);\n',
    );
    const changed = loadCedarPolicies({ directory: copy, deny: ['vendor.*'] });
    expect(changed.version).not.toBe(bundled.version);
    expect(changed.evaluate(request({ tool: 'iam.get_user' })).type).toBe('deny');
  });
});

describe('Cedar deny by default', () => {
  it('denies what no policy permits', () => {
    const set = loadCedarPolicies({
      directory: policyDirectory({ 'only.cedar': 'permit (principal, action in Action::"read", resource);' }),
      deny: [],
    });
    expect(set.evaluate(destructive({ autonomy: 'auto' }))).toMatchObject({
      type: 'deny',
      reasons: [{ policy: 'default-deny' }],
    });
  });

  it('denies when any policy fails to evaluate, even if a permit matched', () => {
    const set = loadCedarPolicies({
      directory: policyDirectory({
        'a.cedar':
          'permit (principal, action, resource);\n@id("typo")\nforbid (principal, action, resource) when { context.tiar == "read" };',
      }),
      deny: [],
    });
    expect(set.evaluate(request())).toMatchObject({
      type: 'deny',
      reasons: [{ policy: 'typo', reason: expect.stringMatching(/a\.cedar:2 failed to evaluate/) }],
    });
  });

  it('sends every attribute a custom policy reads, however it reads it', () => {
    const forbids = {
      'tier-arg':
        'forbid (principal, action, resource) when { context.tier == "read" && context.args.host == "X" };',
      'tainted-arg': 'forbid (principal, action, resource) when { context.taintedArgs.contains("host") };',
      'has-path': 'forbid (principal, action, resource) when { context has args.user };',
      'resource-name':
        'forbid (principal, action, resource) when { resource.name == "X" && resource has kind };',
      'whole-context':
        'forbid (principal, action, resource) when { context == { "n": 1 } || context has tier && context.tier == "read" && false };',
      'entity-literal': 'forbid (principal, action, resource) when { Asset::"host:X".kind == "user" };',
    };
    for (const [id, text] of Object.entries(forbids)) {
      const set = loadCedarPolicies({
        directory: policyDirectory({
          'a.cedar': `permit (principal, action, resource);\n@id("${id}")\n${text}`,
        }),
        deny: [],
      });
      const denied = {
        'tier-arg': request({ args: { host: 'X' } }),
        'tainted-arg': request({ taintedArgs: ['host'] }),
        'has-path': request({ args: { user: 'alice' } }),
        'resource-name': request({ asset: { kind: 'host', name: 'X', criticality: 'low' } }),
        'whole-context': null,
        'entity-literal': null,
      }[id];
      if (denied) expect(set.evaluate(denied), id).toMatchObject({ type: 'deny', reasons: [{ policy: id }] });
      // The resource is host X here, so the entity literal reads the resource entity's kind.
      const allowed = request({
        args: { host: 'Y' },
        asset: { kind: 'host', name: 'X', criticality: 'low' },
      });
      expect(
        set.evaluate(id === 'resource-name' ? request({ args: { host: 'Y' } }) : allowed),
        id,
      ).toMatchObject({ type: 'allow' });
    }
  });

  it('denies rather than asking a human whose approval could not let the call run', () => {
    const set = loadCedarPolicies({
      directory: policyDirectory({
        'a.cedar':
          '@decision("require_approval")\nforbid (principal, action, resource) unless { context.approval.granted };',
      }),
      deny: [],
    });
    expect(set.evaluate(destructive())).toMatchObject({
      type: 'deny',
      reasons: [{ policy: 'default-deny' }],
    });
  });

  it('turns an exception inside the decision point into a deny', () => {
    const policy = createPolicy({
      tiers: {
        tierOf() {
          throw new Error('registry broke');
        },
      },
      deny: [],
      maxToolCalls: 10,
      maxActions: { reversible: 1, destructive: 1 },
      knownTools: () => true,
      killSwitches: () => [],
    });
    const decided = policy.decide({
      runId: 'r',
      tool: 'edr.host_summary',
      args: {},
      toolCallsSoFar: 0,
      actionsSoFar: { reversible: 0, destructive: 0 },
    });
    expect(decided).toMatchObject({ check: 'error', decision: { type: 'deny', reason: /registry broke/ } });
  });
});

describe('Cedar decision cache', () => {
  it('answers a repeated request from the cache with the same decision as the engine', () => {
    const cached = loadCedarPolicies({ directory: bundledPoliciesDirectory, deny: ['vendor.*'] });
    const uncached = loadCedarPolicies({
      directory: bundledPoliciesDirectory,
      deny: ['vendor.*'],
      cacheSize: 0,
    });
    const requests = [request(), destructive(), destructive({ approval: { granted: true, approvers: 1 } })];
    for (const item of [...requests, ...requests])
      expect(cached.evaluate(item)).toEqual(uncached.evaluate(item));
    expect(cached.cacheStats()).toMatchObject({ hits: expect.any(Number), misses: expect.any(Number) });
    expect(cached.cacheStats().hits).toBeGreaterThan(0);
    expect(uncached.cacheStats()).toEqual({ hits: 0, misses: 0, size: 0 });
  });

  it('never serves a decision made for another context, resource, tool or tier', () => {
    const set = loadCedarPolicies({ directory: bundledPoliciesDirectory, deny: [] });
    const write = request({ tool: 'edr.kill_process', tier: 'reversible', autonomy: 'auto' });
    expect(set.evaluate(write).type).toBe('allow');
    // Each variant differs from a cached request in one field that decides; each must be decided afresh.
    expect(set.evaluate({ ...write, tainted: true }).type).toBe('require_approval');
    expect(set.evaluate({ ...write, injectionSignal: true }).type).toBe('require_approval');
    expect(set.evaluate({ ...write, autonomy: 'suggest' }).type).toBe('suggest');
    expect(set.evaluate({ ...write, tierSource: 'unclassified' }).type).toBe('require_approval');
    expect(set.evaluate({ ...write, tool: 'vendor.kill_process' }).type).toBe('allow');
    const approved = destructive({ approval: { granted: true, approvers: 1 } });
    expect(set.evaluate(approved).type).toBe('allow');
    const critical = {
      ...approved,
      asset: { kind: 'host' as const, name: 'FIN-WS01', criticality: 'critical' as const },
    };
    expect(set.evaluate(critical).type).toBe('require_approval');
    expect(set.evaluate({ ...approved, approval: { granted: false, approvers: 0 } }).type).toBe(
      'require_approval',
    );
    // And the cached ones still come back as they were.
    expect(set.evaluate(write).type).toBe('allow');
    expect(set.evaluate(approved).type).toBe('allow');
  });

  it('keys on the run and the arguments only when a policy reads them', () => {
    const set = loadCedarPolicies({
      directory: policyDirectory({
        'a.cedar':
          'permit (principal, action, resource);\n@id("no-run-2")\nforbid (principal == Run::"run-2", action, resource);\n@id("no-x")\nforbid (principal, action, resource) when { context.args has host && context.args.host == "X" };',
      }),
      deny: [],
    });
    expect(set.evaluate(request({ runId: 'run-1' })).type).toBe('allow');
    expect(set.evaluate(request({ runId: 'run-2' }))).toMatchObject({
      type: 'deny',
      reasons: [{ policy: 'no-run-2' }],
    });
    expect(set.evaluate(request({ args: { host: 'X' } }))).toMatchObject({
      type: 'deny',
      reasons: [{ policy: 'no-x' }],
    });
    expect(set.evaluate(request({ args: { host: 'Y' } })).type).toBe('allow');
  });

  it('belongs to one policy set: a changed policy decides afresh', () => {
    const directory = policyDirectory({ 'a.cedar': 'permit (principal, action, resource);' });
    const before = loadCedarPolicies({ directory, deny: [] });
    expect(before.evaluate(request()).type).toBe('allow');
    writeFileSync(join(directory, 'a.cedar'), '@id("none")\nforbid (principal, action, resource);');
    const after = loadCedarPolicies({ directory, deny: [] });
    expect(after.version).not.toBe(before.version);
    expect(after.evaluate(request())).toMatchObject({ type: 'deny', reasons: [{ policy: 'none' }] });
    expect(before.evaluate(request()).type).toBe('allow');
  });

  it('hands out decisions a caller cannot use to change later ones', () => {
    const set = loadCedarPolicies({ directory: bundledPoliciesDirectory, deny: [] });
    const first = set.evaluate(request());
    first.reasons.push({ policy: 'forged', reason: 'forged' });
    (first.reasons[0] as { policy: string }).policy = 'forged';
    expect(set.evaluate(request()).reasons).toEqual([{ policy: 'read-runs', reason: expect.any(String) }]);
  });

  it('stays bounded', () => {
    const set = loadCedarPolicies({ directory: bundledPoliciesDirectory, deny: [], cacheSize: 8 });
    for (let index = 0; index < 50; index++)
      set.evaluate(request({ asset: { kind: 'host', name: `H${index}`, criticality: 'low' } }));
    expect(set.cacheStats().size).toBe(8);
  });
});

describe('invalid policy files stop start-up with file and line', () => {
  it('names the file and line of a syntax error', () => {
    const directory = policyDirectory({
      'good.cedar': 'permit (principal, action in Action::"read", resource);\n',
      'broken.cedar': '// fine\n\npermit (principal, action, resource)\n  when { context.tier == };\n',
    });
    expect(() => loadCedarPolicies({ directory, deny: [] })).toThrow(ConfigError);
    expect(() => loadCedarPolicies({ directory, deny: [] })).toThrow(/broken\.cedar:4: .*unexpected token/);
  });

  it('refuses duplicate ids, unknown @decision values, and an empty folder', () => {
    const twice = '@id("same")\npermit (principal, action, resource);\n';
    expect(() =>
      loadCedarPolicies({ directory: policyDirectory({ 'a.cedar': twice, 'b.cedar': twice }), deny: [] }),
    ).toThrow(/@id\("same"\) is already used at .*a\.cedar:1/);
    const odd = '@decision("maybe")\nforbid (principal, action, resource);\n';
    expect(() => loadCedarPolicies({ directory: policyDirectory({ 'a.cedar': odd }), deny: [] })).toThrow(
      /@decision\("maybe"\)/,
    );
    expect(() => loadCedarPolicies({ directory: policyDirectory({}), deny: [] })).toThrow(/no \.cedar files/);
    expect(() => loadCedarPolicies({ directory: '/nonexistent/policies', deny: [] })).toThrow(
      /policy\.directory .*cannot be read/,
    );
  });
});

describe('policy decision point', () => {
  const tiers = createTierRegistry({
    overrides: {},
    bundledKinds: new Map([
      ['edr', 'edr'],
      ['ticket', 'ticket'],
    ]),
    rules: [{ tool: 'ticket.update_status', when: { status: 'closed' }, tier: 'destructive' }],
  });
  const policy = createPolicy({
    tiers,
    deny: [],
    maxToolCalls: 10,
    maxActions: { reversible: 5, destructive: 5 },
    knownTools: () => true,
    killSwitches: () => [],
    assets: loadAssets({ inventory: sampleInventoryPath, hosts: {} }),
  });
  const decide = (tool: string, args: Record<string, unknown>, extra = {}) =>
    policy.decide({
      runId: 'r',
      tool,
      args,
      toolCallsSoFar: 0,
      actionsSoFar: { reversible: 0, destructive: 0 },
      ...extra,
    });

  it('raises a tier by argument rule, never by what the server says', () => {
    expect(decide('ticket.update_status', { id: 'T-1', status: 'in_progress' })).toMatchObject({
      tier: 'reversible',
      decision: { type: 'allow' },
      notify: true,
      autonomy: 'notify',
    });
    expect(decide('ticket.update_status', { id: 'T-1', status: 'closed' })).toMatchObject({
      tier: 'destructive',
      tierSource: 'config-rule',
      decision: { type: 'require_approval' },
    });
  });

  it('takes criticality from the inventory and shows tainted arguments in the reason', () => {
    const onDc = decide('edr.isolate_host', { host: 'DC01.harbourline.local', reason: 'x' });
    expect(onDc).toMatchObject({ approvers: 2, policyVersion: policy.version, check: 'cedar' });
    const tainted = decide(
      'ticket.add_comment',
      { id: 'T-1', body: 'x' },
      { taint: { tainted: true, args: ['body'] } },
    );
    expect(tainted.decision).toMatchObject({
      type: 'require_approval',
      reason: expect.stringMatching(/tainted arguments: body/),
    });
  });
});

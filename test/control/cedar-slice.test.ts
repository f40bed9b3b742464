import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bundledPoliciesDirectory,
  type CedarPolicySet,
  type CedarRequest,
  loadCedarPolicies,
} from '../../src/control/index.js';
import { tempHome } from '../helpers.js';

// Policy slicing (cedar.ts PolicySlice) must change nothing but the cost: every request is decided by
// the sliced set and by the whole set (slicing off), and the engine's decision, determining policies
// and evaluation errors, and Warden's verdict, must be the same.

const tools = [
  'edr.isolate_host',
  'edr.host_summary',
  'siem.search_events',
  'iam.disable_user',
  'ticket.create',
  'vendor.lookup',
  'vendor.wipe',
  'other.thing',
] as const;
const tiers = ['read', 'reversible', 'destructive'] as const;
const tierSources = ['config', 'config-rule', 'bundled-default', 'unclassified'] as const;
const autonomies = ['suggest', 'approve', 'notify', 'auto'] as const;
const assets: CedarRequest['asset'][] = [
  { kind: 'host', name: 'DC01', criticality: 'critical' },
  { kind: 'host', name: 'FIN-WS01', criticality: 'high' },
  { kind: 'user', name: 'alice', criticality: 'unknown' },
  { kind: 'host', name: 'X', criticality: 'low' },
  { kind: 'none', name: '', criticality: 'unknown' },
];
const approvals = [
  { granted: false, approvers: 0 },
  { granted: true, approvers: 1 },
  { granted: true, approvers: 2 },
];

const requestArbitrary: fc.Arbitrary<CedarRequest> = fc.record({
  runId: fc.constantFrom('run-1', 'run-2'),
  tool: fc.constantFrom(...tools),
  tier: fc.constantFrom(...tiers),
  tierSource: fc.constantFrom(...tierSources),
  autonomy: fc.constantFrom(...autonomies),
  tainted: fc.boolean(),
  taintedArgs: fc.constantFrom([], ['host'], ['host', 'user']),
  injectionSignal: fc.boolean(),
  approval: fc.constantFrom(...approvals),
  asset: fc.constantFrom(...assets),
  args: fc.constantFrom({}, { host: 'X' }, { host: 'Y', user: 'alice', count: 3 }),
});

function policyDirectory(text: string): string {
  const directory = tempHome('warden-slice-policies-');
  writeFileSync(join(directory, 'custom.cedar'), text);
  return directory;
}

/** Custom policies exercising every form the slicer treats: scopes, `in` tests, attributes, errors. */
const customPolicies = `
@id("permit-all-reads")
permit (principal, action in [Action::"read", Action::"reversible"], resource);

@id("permit-edr")
permit (principal, action in Action::"edr.*", resource) when { context.autonomy != "suggest" };

@id("permit-one-tool")
permit (principal, action == Action::"iam.disable_user", resource) when { context.approval.granted };

@id("forbid-set-in-body")
@decision("require_approval")
forbid (principal, action, resource)
when { action in [Action::"destructive", Action::"vendor.*"] && resource.criticality == "critical" }
unless { context.approval.approvers >= 2 };

@id("forbid-unscoped-taint")
@decision("require_approval")
forbid (principal, action, resource) when { context.tainted && !(action in Action::"read") }
unless { context.approval.granted };

@id("forbid-args")
forbid (principal, action, resource) when { context has args.host && context.args.host == "X" && action == Action::"vendor.wipe" };

@id("suggest-by-tier-source")
@decision("suggest")
forbid (principal, action in Action::"reversible", resource) when { context.tierSource == "config-rule" };

@id("errors-on-some")
forbid (principal, action in Action::"ticket.*", resource) when { context.args.missing == "x" };

@id("type-error")
forbid (principal, action, resource) when { action in Action::"other.*" && context.tier > 1 };

@id("resource-kind")
forbid (principal, action, resource) when { resource.kind == "user" && action in Action::"destructive" && !context.approval.granted };

@id("never-matches")
forbid (principal, action in Action::"nothing", resource);

@id("dynamic-in")
forbid (principal, action, resource) when { resource in Asset::"host:X" && action in Action::"edr.*" && context.injectionSignal };

@id("principal-scoped")
forbid (principal == Run::"run-2", action in Action::"destructive", resource) when { context.autonomy == "auto" };

@id("entity-literal")
forbid (principal, action, resource) when { action in Action::"siem.*" && Asset::"host:X".kind == "host" };

@id("fails-before-fixed")
forbid (principal, action, resource) when { context.args.nope == "x" } when { !(action in Action::"read") };

@id("fixed-before-failing")
forbid (principal, action, resource) when { !(action in Action::"read") && context.args.nope == "x" };

@id("unless-fixed")
forbid (principal, action, resource) unless { action in Action::"read" || context.args.nope == "x" };

@id("type-error-before-false")
forbid (principal, action, resource) when { context.tier && !(action in Action::"destructive") };

@id("compare-mixed")
forbid (principal, action in Action::"reversible", resource) when { context.approval.approvers > "2" && false };

@id("is-test")
permit (principal is Run, action, resource is Asset) when { context.taintedArgs.contains("user") };
`;

const denyLists: string[][] = [[], ['vendor.*'], ['edr.isolate_host', 'iam.*'], ['*']];

function sets(directory: string, deny: string[]): { sliced: CedarPolicySet; whole: CedarPolicySet } {
  return {
    sliced: loadCedarPolicies({ directory, deny, cacheSize: 0 }),
    whole: loadCedarPolicies({ directory, deny, cacheSize: 0, slicing: false }),
  };
}

function expectSame(sliced: CedarPolicySet, whole: CedarPolicySet, request: CedarRequest): void {
  expect(sliced.explain(request), JSON.stringify(request)).toEqual(whole.explain(request));
  expect(sliced.evaluate(request), JSON.stringify(request)).toEqual(whole.evaluate(request));
}

describe('Cedar policy slicing', () => {
  for (const [name, directory] of [
    ['bundled', bundledPoliciesDirectory],
    ['custom', policyDirectory(customPolicies)],
  ] as const) {
    for (const deny of denyLists) {
      it(`decides as the whole set: ${name} policies, deny list ${JSON.stringify(deny)}`, () => {
        const { sliced, whole } = sets(directory, deny);
        fc.assert(
          fc.property(requestArbitrary, (request) => expectSame(sliced, whole, request)),
          { numRuns: 400, seed: 14 },
        );
      });
    }
  }

  it('decides as the whole set over every tool, tier, autonomy level and approval of the bundled policies', () => {
    const { sliced, whole } = sets(bundledPoliciesDirectory, ['vendor.*']);
    let seen = 0;
    for (const tool of tools)
      for (const tier of tiers)
        for (const autonomy of autonomies)
          for (const approval of approvals)
            for (const asset of assets)
              for (const tainted of [false, true]) {
                expectSame(sliced, whole, {
                  runId: 'run-1',
                  tool,
                  tier,
                  tierSource: 'bundled-default',
                  autonomy,
                  tainted,
                  taintedArgs: tainted ? ['host'] : [],
                  injectionSignal: !tainted && autonomy === 'notify',
                  approval,
                  asset,
                  args: { host: asset.name },
                });
                seen++;
              }
    expect(seen).toBe(tools.length * tiers.length * autonomies.length * approvals.length * assets.length * 2);
  });

  it('reports the same evaluation errors as the whole set', () => {
    const { sliced, whole } = sets(policyDirectory(customPolicies), []);
    const request: CedarRequest = {
      runId: 'run-1',
      tool: 'ticket.create',
      tier: 'reversible',
      tierSource: 'config',
      autonomy: 'auto',
      tainted: false,
      taintedArgs: [],
      injectionSignal: false,
      approval: { granted: false, approvers: 0 },
      asset: { kind: 'none', name: '', criticality: 'unknown' },
      args: {},
    };
    const answer = sliced.explain(request);
    expect(answer.errors.map((error) => error.policy)).toContain('errors-on-some');
    expect(answer).toEqual(whole.explain(request));
    const typeError = { ...request, tool: 'other.thing' };
    expect(sliced.explain(typeError).errors.map((error) => error.policy)).toContain('type-error');
    expect(sliced.explain(typeError)).toEqual(whole.explain(typeError));
    const verdict = sliced.evaluate(typeError);
    expect(verdict.type).toBe('deny');
    expect(verdict.reasons.map((reason) => reason.policy)).toContain('type-error');
    // A condition that can fail before one fixed against the call still fails (and so denies).
    const read = { ...request, tool: 'siem.search_events', tier: 'read' as const };
    const failed = sliced.explain(read).errors.map((error) => error.policy);
    expect(failed).toContain('fails-before-fixed');
    expect(failed).not.toContain('fixed-before-failing');
    expect(failed).not.toContain('unless-fixed');
    expect(sliced.explain(read)).toEqual(whole.explain(read));
  });

  it('keeps the slices of two sets of the same policies apart from those of other sets', () => {
    const custom = policyDirectory(customPolicies);
    const whole = loadCedarPolicies({ directory: custom, deny: [], cacheSize: 0, slicing: false });
    const first = loadCedarPolicies({ directory: custom, deny: [], cacheSize: 0 });
    const bundled = loadCedarPolicies({ directory: bundledPoliciesDirectory, deny: [], cacheSize: 0 });
    const second = loadCedarPolicies({ directory: custom, deny: [], cacheSize: 0 });
    expect(second.version).toBe(first.version);
    const bundledWhole = loadCedarPolicies({
      directory: bundledPoliciesDirectory,
      deny: [],
      cacheSize: 0,
      slicing: false,
    });
    // Each set meets the tools in another order, so a slot per set would hold different slices.
    const samples = fc.sample(requestArbitrary, { numRuns: 300, seed: 5 });
    samples.forEach((request, index) => {
      const mirrored = samples[samples.length - 1 - index]!;
      expect(first.explain(request)).toEqual(whole.explain(request));
      expect(second.explain(mirrored)).toEqual(whole.explain(mirrored));
      expect(bundled.explain(request)).toEqual(bundledWhole.explain(request));
    });
  });

  it('keeps deciding correctly once more tools are seen than slices are kept', () => {
    const { sliced, whole } = sets(bundledPoliciesDirectory, ['vendor.*']);
    for (let round = 0; round < 2; round++)
      for (let index = 0; index < 300; index++)
        for (const tier of tiers) {
          const request: CedarRequest = {
            runId: 'run-1',
            tool: index % 7 === 0 ? `vendor.t${index}` : `s${index % 5}.t${index}`,
            tier,
            tierSource: 'config',
            autonomy: index % 2 === 0 ? 'auto' : 'approve',
            tainted: index % 3 === 0,
            taintedArgs: [],
            injectionSignal: false,
            approval: { granted: false, approvers: 0 },
            asset: assets[index % assets.length]!,
            args: {},
          };
          expect(sliced.evaluate(request)).toEqual(whole.evaluate(request));
        }
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contextFields, flattenSlice } from '../../src/control/cedar-flatten.js';
import { type CedarRequest, loadCedarPolicies } from '../../src/control/index.js';
import { tempHome } from '../helpers.js';

// Flat context attributes (cedar-flatten.ts) change what the engine is sent, never what it decides:
// each request is decided by the flattened slices and by the whole set (slicing off, nothing
// flattened), and decisions, determining policies, evaluation errors and verdicts must be equal.

function policyJson(text: string): cedar.PolicyJson {
  const answer = cedar.policyToJson(text);
  if (answer.type !== 'success') throw new Error(answer.errors.map((error) => error.message).join('; '));
  return answer.json;
}

function flatten(policies: Record<string, string>, reads: string[] | null, needsEntities = false) {
  const json = Object.fromEntries(Object.entries(policies).map(([id, text]) => [id, policyJson(text)]));
  return flattenSlice(json, reads === null ? null : new Set(reads), needsEntities);
}

function policyDirectory(text: string): string {
  const directory = tempHome('warden-flatten-policies-');
  writeFileSync(join(directory, 'custom.cedar'), text);
  return directory;
}

const request = (overrides: Partial<CedarRequest> = {}): CedarRequest => ({
  runId: 'run-1',
  tool: 'edr.isolate_host',
  tier: 'destructive',
  tierSource: 'config',
  autonomy: 'approve',
  tainted: false,
  taintedArgs: [],
  injectionSignal: false,
  approval: { granted: false, approvers: 0 },
  asset: { kind: 'host', name: 'DC01', criticality: 'critical' },
  args: {},
  ...overrides,
});

describe('flattenSlice', () => {
  it('sends the approval leaves and the resource attributes a slice reads as flat context attributes', () => {
    const flat = flatten(
      {
        a: 'forbid (principal, action, resource) when { resource.criticality == "critical" } unless { context.approval.approvers >= 2 };',
        b: 'forbid (principal, action, resource) when { resource has kind && context.autonomy == "approve" } unless { context.approval has granted };',
      },
      ['approval', 'autonomy'],
    );
    expect(flat.approval).toEqual(['approvers', 'granted']);
    expect(flat.resource).toEqual(['criticality', 'kind']);
    const text = JSON.stringify(flat.policies);
    expect(text).toContain('"attr":"approval.approvers"');
    expect(text).toContain('"attr":"resource.criticality"');
    expect(text).not.toContain('"Var":"resource"');
    expect(contextFields(new Set(['approval', 'autonomy']), flat).map((field) => field.name)).toEqual([
      'autonomy',
      'approval.approvers',
      'approval.granted',
      'resource.criticality',
      'resource.kind',
    ]);
  });

  it('keeps the record or the entity whenever another use could tell the difference', () => {
    const leaf = 'forbid (principal, action, resource) unless { context.approval.granted };';
    const keepsApproval = [
      'forbid (principal, action, resource) when { context has approval };',
      'forbid (principal, action, resource) when { context has approval.granted };',
      'forbid (principal, action, resource) when { context.approval == {"granted": true, "approvers": 1} };',
      'forbid (principal, action, resource) when { context.approval.nope };',
    ];
    for (const text of keepsApproval)
      expect(flatten({ leaf, other: text }, ['approval']).approval, text).toBeNull();
    const reads = 'forbid (principal, action, resource) when { resource.criticality == "high" };';
    const keepsResource = [
      'forbid (principal, action, resource) when { resource.owner == "x" };',
      'forbid (principal, action, resource) when { resource has owner };',
      'forbid (principal, action, resource) when { resource.hasTag("x") };',
    ];
    for (const text of keepsResource) expect(flatten({ reads, other: text }, []).resource, text).toBeNull();
    // A slice that needs the entity store keeps the resource entity.
    expect(flatten({ reads }, [], true).resource).toBeNull();
    // The context used whole, or a policy reading a name a flat attribute would take: nothing is flattened.
    expect(flatten({ leaf }, null)).toMatchObject({ approval: null, resource: null });
    const clash = flatten(
      { leaf, reads, other: 'permit (principal, action, resource) when { context["approval.granted"] };' },
      ['approval', 'approval.granted'],
    );
    expect(clash).toMatchObject({ approval: null, resource: null });
  });
});

const flatPolicies = `
@id("permit-all")
permit (principal, action, resource);

@id("critical-needs-two")
@decision("require_approval")
@approvers("2")
forbid (principal, action in Action::"destructive", resource)
when { resource.criticality == "critical" } unless { context.approval.approvers >= 2 };

@id("user-kind-needs-approval")
@decision("require_approval")
forbid (principal, action, resource) when { resource has kind && resource.kind == "user" } unless { context.approval has granted && context.approval.granted };

@id("named-host")
forbid (principal, action in Action::"reversible", resource) when { resource.name == "DC01" && context.autonomy == "auto" };

@id("approvers-type-error")
forbid (principal, action in Action::"edr.*", resource) when { context.tainted && context.approval.approvers > "2" };

@id("criticality-type-error")
forbid (principal, action in Action::"iam.*", resource) when { resource.criticality > 1 };

@id("granted-attribute-of-bool")
forbid (principal, action in Action::"ticket.*", resource) when { context.approval.granted.nope };
`;

/** The same, plus uses that keep the record or the entity for some slices. */
const mixedPolicies = `${flatPolicies}
@id("approval-whole")
forbid (principal, action in Action::"vendor.*", resource) when { context.approval == {"granted": true, "approvers": 5} };

@id("resource-owner")
forbid (principal, action in Action::"siem.*", resource) when { resource has owner || resource.owner == "x" };

@id("approval-missing")
forbid (principal, action in Action::"other.*", resource) when { context.approval.nope };
`;

/** Reads of the context attributes a slice fixes (tier, autonomy, tier source), in every form. */
const fixedPolicies = `
@id("permit-unless-suggest")
permit (principal, action, resource) when { context.autonomy != "suggest" };

@id("gate-by-level")
@decision("require_approval")
forbid (principal, action, resource) when { context.autonomy == "approve" && context.tier == "destructive" } unless { context.approval.granted };

@id("rule-source-suggests")
@decision("suggest")
forbid (principal, action, resource) when { context.tierSource like "config*" && context.tier != "read" };

@id("autonomy-type-error")
forbid (principal, action in Action::"iam.*", resource) when { context.autonomy > 1 };

@id("source-attribute-of-string")
forbid (principal, action in Action::"ticket.*", resource) when { context.tierSource.nope == "x" };

@id("has-autonomy")
forbid (principal, action in Action::"vendor.*", resource) unless { context has autonomy && ["notify", "auto"].contains(context.autonomy) };

@id("has-path-through-tier")
forbid (principal, action in Action::"other.*", resource) when { context has tier.x };

@id("fixed-then-failing")
forbid (principal, action in Action::"siem.*", resource) when { context.tier == "read" && context.args.nope == "x" };
`;

const requestArbitrary: fc.Arbitrary<CedarRequest> = fc.record({
  runId: fc.constant('run-1'),
  tool: fc.constantFrom(
    'edr.isolate_host',
    'iam.disable_user',
    'ticket.create',
    'vendor.wipe',
    'siem.search_events',
    'other.thing',
  ),
  tier: fc.constantFrom('read', 'reversible', 'destructive'),
  tierSource: fc.constantFrom('config', 'bundled-default', 'unclassified'),
  autonomy: fc.constantFrom('suggest', 'approve', 'notify', 'auto'),
  tainted: fc.boolean(),
  taintedArgs: fc.constant([]),
  injectionSignal: fc.boolean(),
  approval: fc.constantFrom(
    { granted: false, approvers: 0 },
    { granted: true, approvers: 1 },
    { granted: true, approvers: 5 },
  ),
  asset: fc.constantFrom<CedarRequest['asset'][]>(
    { kind: 'host', name: 'DC01', criticality: 'critical' },
    { kind: 'user', name: 'alice', criticality: 'unknown' },
    { kind: 'none', name: '', criticality: 'unknown' },
  ),
  args: fc.constant({}),
});

describe('Cedar decisions with flat context attributes', () => {
  for (const [name, text] of [
    ['flattened', flatPolicies],
    ['partly flattened', mixedPolicies],
    ['fixed attributes', fixedPolicies],
  ] as const) {
    it(`decide as the whole set: ${name}`, () => {
      const directory = policyDirectory(text);
      const sliced = loadCedarPolicies({ directory, deny: [], cacheSize: 0 });
      const cached = loadCedarPolicies({ directory, deny: [] });
      const whole = loadCedarPolicies({ directory, deny: [], cacheSize: 0, slicing: false });
      fc.assert(
        fc.property(requestArbitrary, (input) => {
          const expected = whole.explain(input);
          expect(sliced.explain(input), JSON.stringify(input)).toEqual(expected);
          expect(sliced.evaluate(input), JSON.stringify(input)).toEqual(whole.evaluate(input));
          expect(cached.evaluate(input), JSON.stringify(input)).toEqual(whole.evaluate(input));
        }),
        { numRuns: 400, seed: 15 },
      );
    });
  }

  it('still denies when a flattened attribute makes a policy fail, naming it', () => {
    const set = loadCedarPolicies({ directory: policyDirectory(flatPolicies), deny: [], cacheSize: 0 });
    const typeError = set.evaluate(request({ tool: 'iam.disable_user' }));
    expect(typeError.type).toBe('deny');
    expect(typeError.reasons.map((reason) => reason.policy)).toEqual(['criticality-type-error']);
    const approvers = set.explain(request({ tainted: true }));
    expect(approvers.errors.map((error) => error.policy)).toEqual(['approvers-type-error']);
    expect(set.evaluate(request({ tainted: true })).type).toBe('deny');
    // Two approvers lift the critical-asset gate; the attribute is read from the request each time.
    expect(set.evaluate(request({ approval: { granted: true, approvers: 2 } })).type).toBe('allow');
    expect(set.evaluate(request()).type).toBe('require_approval');
  });

  it('are made again for a changed policy set, which may not flatten the same way', () => {
    const first = loadCedarPolicies({ directory: policyDirectory(flatPolicies), deny: [], cacheSize: 0 });
    // One policy reads `context has approval`: the record must be sent, or it would be false.
    const changed = loadCedarPolicies({
      directory: policyDirectory(
        `${flatPolicies}\n@id("has-approval")\nforbid (principal, action, resource) unless { context has approval };`,
      ),
      deny: [],
      cacheSize: 0,
    });
    expect(changed.version).not.toBe(first.version);
    const input = request({ approval: { granted: true, approvers: 2 } });
    expect(first.evaluate(input).type).toBe('allow');
    expect(changed.evaluate(input).type).toBe('allow');
    expect(changed.explain(input).reasons).toEqual(['permit-all']);
  });
});

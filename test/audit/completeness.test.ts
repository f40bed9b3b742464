import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/index.js';
import { createGateway, type Gateway } from '../../src/capability/gateway/index.js';
import { bundledSkillsDirectory, loadSkills } from '../../src/knowledge/index.js';
import { createOfflineAnalyst } from '../../src/model/index.js';
import { type AuditEventRecord, openStore, type Store } from '../../src/store/index.js';
import { fixtureConfig, type Investigations, runInvestigations } from '../fixtures/investigations.js';
import { tempHome } from '../helpers.js';

const config = fixtureConfig();
const sha256 = /^[0-9a-f]{64}$/;
let store: Store;
let gateway: Gateway;
let runs: Investigations;
const trails = new Map<string, AuditEventRecord[]>();

beforeAll(async () => {
  const home = tempHome();
  store = await openStore({ home });
  gateway = await createGateway({ config, home });
  const { skills } = await loadSkills([bundledSkillsDirectory]);
  runs = await runInvestigations(
    { store, gateway, provider: createOfflineAnalyst(), skills, config },
    home,
    tempHome(),
  );
  for (const runId of Object.values(runs)) trails.set(runId, await store.audit.list(runId));
}, 600_000);
afterAll(async () => {
  await gateway?.close();
  await store?.close();
});

const trail = (name: keyof Investigations) => trails.get(runs[name]) ?? [];
const ofType = (name: keyof Investigations, type: string) =>
  trail(name)
    .filter((event) => event.type === type)
    .map((event) => event.data as Record<string, unknown>);

describe('the audit trail of an investigation holds everything the issue requires', () => {
  it('the alert and the policy version, at run start', () => {
    const [start] = ofType('approved', 'run-start');
    expect(start).toMatchObject({
      alert: { id: expect.any(String), title: expect.any(String) },
      provider: 'offline',
      policyVersion: expect.stringMatching(sha256),
      tools: expect.arrayContaining([
        expect.objectContaining({ name: 'edr.isolate_host', tier: 'destructive' }),
      ]),
    });
    expect(trail('approved')[0]?.type).toBe('run-start');
  });

  it('every model request, and every response with its model id and token counts', () => {
    const requests = ofType('approved', 'model-request');
    const responses = ofType('approved', 'model-response');
    expect(requests.length).toBeGreaterThan(0);
    expect(responses.length).toBe(requests.length);
    for (const request of requests)
      expect(request).toMatchObject({ turn: expect.any(Number), provider: 'offline' });
    for (const response of responses) {
      expect(response).toMatchObject({
        model: expect.stringMatching(/\S/),
        usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
        content: expect.any(Array),
      });
    }
  });

  it('every tool request with its arguments, one policy decision with version and reason, then a result or an approval request', () => {
    const [start] = ofType('approved', 'run-start');
    const requests = ofType('approved', 'tool-call-request');
    expect(requests.length).toBeGreaterThan(3);
    const decisions = ofType('approved', 'policy-decision');
    const results = ofType('approved', 'tool-call-result');
    const approvals = ofType('approved', 'tool-approval-request');
    for (const request of requests) {
      expect(request).toMatchObject({
        callId: expect.any(String),
        tool: expect.any(String),
        args: expect.any(Object),
      });
      const decided = decisions.filter(
        (decision) => decision.callId === request.callId && decision.tool === request.tool,
      );
      expect(decided.length).toBeGreaterThan(0);
      for (const decision of decided) {
        expect(decision).toMatchObject({
          decision: expect.stringMatching(/^(allow|deny|require_approval)$/),
          reason: expect.stringMatching(/\S/),
          check: expect.any(String),
          policyVersion: start?.policyVersion,
        });
      }
      const followed =
        results.some((result) => result.callId === request.callId) ||
        approvals.some((approval) => approval.callId === request.callId);
      expect(followed).toBe(true);
    }
    for (const result of results)
      expect(result).toMatchObject({ callId: expect.any(String), isError: expect.any(Boolean) });
    expect(results.every((result) => 'value' in result)).toBe(true);
  });

  it('approval requests bound to the argument hash, and responses naming the approver', () => {
    const requests = ofType('approved', 'tool-approval-request');
    const responses = ofType('approved', 'tool-approval-response');
    expect(requests).toHaveLength(2);
    for (const request of requests)
      expect(request).toMatchObject({
        approvalId: expect.any(String),
        argsHash: expect.stringMatching(sha256),
      });
    expect(responses.map((response) => [response.status, response.by])).toEqual([
      ['approved', 'alice'],
      ['denied', 'alice'],
    ]);
  });

  it('skill loads with the content hash', () => {
    const loads = ofType('approved', 'skill-load');
    expect(loads.length).toBeGreaterThan(0);
    for (const load of loads)
      expect(load).toMatchObject({ name: expect.any(String), hash: expect.stringMatching(sha256) });
  });

  it('the kill switch that stopped a run and the budget that stopped another', () => {
    expect(ofType('killed', 'kill-switch-engage')).toEqual([
      expect.objectContaining({
        switchId: expect.any(String),
        scope: { type: 'all' },
        engagedBy: 'carol',
        reason: 'incident drill',
      }),
    ]);
    expect(ofType('killed', 'run-end')).toEqual([expect.objectContaining({ status: 'killed' })]);
    expect(ofType('overBudget', 'budget-exceeded')).toEqual([
      expect.objectContaining({ cap: 'limits.maxTokens', limit: 1500, used: expect.any(Number) }),
    ]);
    expect(ofType('overBudget', 'run-end')).toEqual([expect.objectContaining({ status: 'escalated' })]);
  });

  it('the verdict, and a run end with its totals, last', () => {
    expect(ofType('approved', 'run-verdict')).toEqual([
      expect.objectContaining({
        verdict: expect.objectContaining({ verdict: 'malicious', confidence: expect.any(Number) }),
      }),
    ]);
    for (const name of Object.keys(runs) as Array<keyof Investigations>) {
      expect(trail(name).at(-1)).toMatchObject({
        type: 'run-end',
        data: { status: expect.any(String), toolCalls: expect.any(Number), tokens: expect.any(Number) },
      });
      expect(verifyChain(runs[name], trail(name), [])).toMatchObject({ status: 'ok' });
    }
  });
});

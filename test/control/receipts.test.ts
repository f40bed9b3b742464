import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localToolSpecs } from '../../src/agent/local-tools.js';
import {
  type CallContext,
  createGateway,
  type Gateway,
  type ServerConnection,
} from '../../src/capability/gateway/index.js';
import { configSchema } from '../../src/config/index.js';
import { bundledPoliciesDirectory, decideApproval } from '../../src/control/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { linkedConnection, tempHome } from '../helpers.js';

const RUN = 'run-receipts';
let home: string;
let store: Store;
let executed: Array<Record<string, unknown>>;
let gateway: Gateway;
let callNumber = 0;

/** A real MCP server over in-memory transport that records every call it actually runs. */
async function vendorConnection(): Promise<ServerConnection> {
  const server = new Server({ name: 'vendor', version: '1' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      // Claims to be harmless; Warden ignores annotations and the config says destructive.
      { name: 'wipe', inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } },
      { name: 'lookup', inputSchema: { type: 'object' } },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    executed.push({ tool: request.params.name, ...(request.params.arguments ?? {}) });
    return { content: [{ type: 'text', text: '{"done":true}' }] };
  });
  return linkedConnection('vendor', server);
}

const config = configSchema.parse({
  servers: {},
  tiers: { 'vendor.wipe': 'destructive', 'vendor.lookup': 'read' },
});

function context(extra: Partial<CallContext> = {}): CallContext {
  callNumber++;
  return {
    runId: RUN,
    callId: `call_${callNumber}`,
    audit: (type, data) => store.audit.append(RUN, type, data, new Date().toISOString()),
    approvals: store.approvals,
    now: () => new Date(),
    toolCallsSoFar: 0,
    actionsSoFar: { reversible: 0, destructive: 0 },
    ...extra,
  };
}

async function held(args: Record<string, unknown>, on: Gateway = gateway) {
  const outcome = await on.call(context(), 'vendor.wipe', args);
  if (outcome.type !== 'approval_required')
    throw new Error(`expected approval_required, got ${outcome.type}`);
  return outcome.approval;
}

const approve = (approvalId: string, by = 'alice') =>
  decideApproval(store.approvals, {
    approvalId,
    status: 'approved',
    by,
    note: 'looks right',
    now: new Date(),
  });

beforeAll(async () => {
  home = tempHome();
  store = await openStore({ home });
  executed = [];
  gateway = await createGateway({ config, home, connections: [await vendorConnection()] });
});

afterAll(async () => {
  await gateway?.close();
  await store?.close();
});

describe('approval receipts', () => {
  it('bind the pending action to run, tool, argument hash and policy version, and record the decision', async () => {
    const approval = await held({ disk: 'd1' });
    expect(approval).toMatchObject({
      runId: RUN,
      tool: 'vendor.wipe',
      policyVersion: gateway.policy.version,
    });
    const events = await store.audit.list(RUN);
    const decision = events.findLast((event) => event.type === 'policy-decision')?.data;
    expect(decision).toMatchObject({
      decision: 'require_approval',
      policyVersion: gateway.policy.version,
      reasons: [{ policy: 'autonomy-approve' }],
      autonomy: 'approve',
    });
    expect(executed).toEqual([]);
  });

  it('approve: executes once with the receipt; the approver and reason are on record', async () => {
    const approval = await held({ disk: 'd2' });
    const decided = await approve(approval.id);
    expect(decided).toMatchObject({ status: 'approved', decidedBy: 'alice', decisionNote: 'looks right' });
    const ran = await gateway.call(context({ receipt: approval.id }), 'vendor.wipe', { disk: 'd2' });
    expect(ran).toMatchObject({ type: 'executed', isError: false });
    expect(executed).toContainEqual({ tool: 'wipe', disk: 'd2' });
    const again = await gateway.call(context({ receipt: approval.id }), 'vendor.wipe', { disk: 'd2' });
    expect(again).toMatchObject({ type: 'denied', reason: expect.stringMatching(/already used/) });
    expect(executed.filter((call) => call.disk === 'd2')).toHaveLength(1);
  });

  it('reject: a denied approval never executes', async () => {
    const approval = await held({ disk: 'd3' });
    await decideApproval(store.approvals, {
      approvalId: approval.id,
      status: 'denied',
      by: 'bob',
      note: 'wrong host',
      now: new Date(),
    });
    const ran = await gateway.call(context({ receipt: approval.id }), 'vendor.wipe', { disk: 'd3' });
    expect(ran).toMatchObject({ type: 'denied', reason: expect.stringMatching(/denied, not approved/) });
    expect(executed.some((call) => call.disk === 'd3')).toBe(false);
  });

  it('expiry: counts as deny and cannot be approved afterwards', async () => {
    const approval = await held({ disk: 'd4' });
    const late = new Date(Date.parse(approval.expiresAt) + 1000);
    await expect(
      decideApproval(store.approvals, {
        approvalId: approval.id,
        status: 'approved',
        by: 'alice',
        note: null,
        now: late,
      }),
    ).rejects.toThrow(/expired .* counts as denied/);
    const ran = await gateway.call(context({ receipt: approval.id }), 'vendor.wipe', { disk: 'd4' });
    expect(ran).toMatchObject({ type: 'denied', reason: expect.stringMatching(/expired, not approved/) });
  });

  it('race: two processes presenting one receipt at once cause exactly one execution', async () => {
    const approval = await held({ disk: 'd5' });
    await approve(approval.id);
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, () =>
        gateway.call(context({ receipt: approval.id }), 'vendor.wipe', { disk: 'd5' }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.type === 'executed')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.type === 'denied')).toHaveLength(3);
    expect(executed.filter((call) => call.disk === 'd5')).toHaveLength(1);
  });
});

describe('adversarial receipts', () => {
  it('an invented receipt id is refused, and a receipt smuggled into the arguments is just an argument', async () => {
    const invented = await gateway.call(context({ receipt: 'apr-0000000000' }), 'vendor.wipe', {
      disk: 'd6',
    });
    expect(invented).toMatchObject({ type: 'denied', reason: expect.stringMatching(/does not exist/) });
    const approval = await held({ disk: 'd7' });
    await approve(approval.id);
    // The model can only shape arguments; a receipt inside them binds nothing and asks for a new approval.
    const smuggled = await gateway.call(context(), 'vendor.wipe', { disk: 'd7', receipt: approval.id });
    expect(smuggled.type).toBe('approval_required');
    expect(executed.some((call) => call.disk === 'd6' || call.disk === 'd7')).toBe(false);
  });

  it('changed arguments need a new approval', async () => {
    const approval = await held({ disk: 'd8' });
    await approve(approval.id);
    const changed = await gateway.call(context({ receipt: approval.id }), 'vendor.wipe', {
      disk: 'd8',
      force: true,
    });
    expect(changed).toMatchObject({ type: 'denied', reason: expect.stringMatching(/other arguments/) });
    const otherTool = await gateway.call(context({ receipt: approval.id }), 'vendor.lookup', { disk: 'd8' });
    expect(otherTool).toMatchObject({
      type: 'denied',
      reason: expect.stringMatching(/issued for vendor\.wipe/),
    });
    expect(executed.some((call) => call.disk === 'd8')).toBe(false);
  });

  it('a receipt approved under another policy version is refused: the policy changed since', async () => {
    const approval = await held({ disk: 'd9' });
    await approve(approval.id);
    const directory = tempHome('warden-policies-');
    cpSync(bundledPoliciesDirectory, directory, { recursive: true });
    writeFileSync(
      join(directory, 'local.cedar'),
      '@id("local-note")\npermit (principal, action in Action::"read", resource);\n',
    );
    const changed = await createGateway({
      config,
      home,
      policyDirectory: directory,
      connections: [await vendorConnection()],
    });
    try {
      expect(changed.policy.version).not.toBe(gateway.policy.version);
      const ran = await changed.call(context({ receipt: approval.id }), 'vendor.wipe', { disk: 'd9' });
      expect(ran).toMatchObject({
        type: 'denied',
        reason: expect.stringMatching(/policy is now .* new approval is needed/),
      });
      expect(executed.some((call) => call.disk === 'd9')).toBe(false);
      // Under the policy it was approved for, the same receipt is still good.
      const original = await gateway.call(context({ receipt: approval.id }), 'vendor.wipe', { disk: 'd9' });
      expect(original.type).toBe('executed');
    } finally {
      await changed.close();
    }
  });

  it('a malformed policy folder stops the gateway from starting, naming the file and line', async () => {
    const directory = tempHome('warden-policies-');
    writeFileSync(
      join(directory, 'bad.cedar'),
      'permit (principal, action, resource)\nwhen { context.tier == };\n',
    );
    await expect(
      createGateway({ config, home, policyDirectory: directory, connections: [await vendorConnection()] }),
    ).rejects.toThrow(/bad\.cedar:2/);
  });

  it('the agent cannot approve: no tool the model sees decides approvals', () => {
    const names = [...gateway.tools.map((tool) => tool.name), ...localToolSpecs([]).map((tool) => tool.name)];
    expect(names.length).toBeGreaterThan(2);
    for (const name of names) expect(name).not.toMatch(/approv|receipt|decide|policy|autonomy|kill/i);
  });
});

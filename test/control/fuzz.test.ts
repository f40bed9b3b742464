import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CallContext,
  createGateway,
  type Gateway,
  type ServerConnection,
} from '../../src/capability/gateway/index.js';
import { configSchema } from '../../src/config/index.js';
import { createDlp, decideApproval, hashArgs, type KillSwitch } from '../../src/control/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { linkedConnection, tempHome } from '../helpers.js';

/**
 * Property-based fuzzing of the control layer: random adversarial episodes (tool sequences,
 * arguments carrying secrets, taint and injection flags, approvals, denials, forged and replayed
 * receipts, kills) through the real gateway, a real MCP server and the real approval store.
 */

const secrets = ['Winter2026!Vault', 'AKIAZ7QK3M5N8P2R4T6V', 'hunter2hunter2'];
const texts = [
  'routine note',
  `password=${secrets[0]}`,
  `keys ${secrets[1]} in use`,
  `psexec \\\\FS01 -u adm -p ${secrets[2]} cmd`,
];
const limits = { maxToolCalls: 12, maxActions: { reversible: 3, destructive: 2 } };

interface Execution {
  tool: string;
  args: Record<string, unknown>;
}

const world: Execution[] = [];
let store: Store;
let gateway: Gateway;
let switches: KillSwitch[] = [];

async function opsServer(): Promise<ServerConnection> {
  const server = new Server({ name: 'ops', version: '1' }, { capabilities: { tools: {} } });
  const schema = (properties: Record<string, unknown>) => ({ type: 'object' as const, properties });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      { name: 'lookup', description: 'read', inputSchema: schema({ host: { type: 'string' } }) },
      {
        name: 'note',
        description: 'sink',
        inputSchema: schema({ host: { type: 'string' }, text: { type: 'string' } }),
      },
      { name: 'wipe', description: 'destructive', inputSchema: schema({ host: { type: 'string' } }) },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    world.push({
      tool: `ops.${request.params.name}`,
      args: (request.params.arguments ?? {}) as Record<string, unknown>,
    });
    return { content: [{ type: 'text', text: '{"ok":true}' }] };
  });
  return linkedConnection('ops', server);
}

beforeAll(async () => {
  const home = tempHome();
  store = await openStore({ home });
  const config = configSchema.parse({
    servers: { ops: { command: 'unused' } },
    tiers: { 'ops.lookup': 'read', 'ops.note': 'reversible', 'ops.wipe': 'destructive' },
    limits,
  });
  gateway = await createGateway({
    config,
    home,
    connections: [await opsServer()],
    dlp: createDlp(config.dlp),
    killSwitches: {
      current: () => switches,
      engage: async () => {
        throw new Error('not used');
      },
      release: async () => {
        throw new Error('not used');
      },
    },
  });
}, 300_000);
afterAll(async () => {
  await gateway?.close();
  await store?.close();
});

const callStep = fc.record({
  kind: fc.constant('call' as const),
  tool: fc.constantFrom('ops.lookup', 'ops.note', 'ops.wipe', 'ops.unknown'),
  host: fc.constantFrom('WS1', 'DC01', 'FS01'),
  text: fc.constantFrom(...texts),
  tainted: fc.boolean(),
  injection: fc.boolean(),
  receipt: fc.constantFrom('none', 'last', 'forged', 'first'),
});
const step = fc.oneof(
  { weight: 6, arbitrary: callStep },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('approve' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deny' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('kill' as const),
      scope: fc.constantFrom('all', 'tool', 'run', 'tier'),
    }),
  },
);

type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

let episodeNumber = 0;

async function episode(steps: readonly Step[]): Promise<void> {
  const runId = `run-fuzz-${++episodeNumber}`;
  switches = [];
  const seen = world.length;
  let toolCalls = 0;
  const actions = { reversible: 0, destructive: 0 };
  const approvalIds: string[] = [];
  const approved = new Map<string, { tool: string; argsHash: string }>();
  const redeemed = new Set<string>();
  let killedAt: number | null = null;
  let callNumber = 0;
  for (const current of steps) {
    if (current.kind === 'approve' || current.kind === 'deny') {
      const id = approvalIds.at(-1);
      if (!id) continue;
      const record = await store.approvals.get(id);
      if (record?.status !== 'pending') continue;
      const decided = await decideApproval(store.approvals, {
        approvalId: id,
        status: current.kind === 'approve' ? 'approved' : 'denied',
        by: 'alice',
        note: null,
        now: new Date(),
      });
      if (decided.status === 'approved') approved.set(id, { tool: decided.tool, argsHash: decided.argsHash });
      continue;
    }
    if (current.kind === 'kill') {
      const scope =
        current.scope === 'all'
          ? ({ type: 'all' } as const)
          : current.scope === 'tool'
            ? ({ type: 'tool', tool: 'ops.wipe' } as const)
            : current.scope === 'tier'
              ? ({ type: 'tier', tier: 'destructive' } as const)
              : ({ type: 'run', runId } as const);
      switches = [
        ...switches,
        {
          id: `kill-${switches.length}`,
          scope,
          engagedBy: 'bob',
          engagedAt: new Date().toISOString(),
          reason: 'fuzz',
        },
      ];
      if (current.scope === 'all' || current.scope === 'run') killedAt ??= world.length;
      continue;
    }
    const args: Record<string, unknown> =
      current.tool === 'ops.note' ? { host: current.host, text: current.text } : { host: current.host };
    const receipt =
      current.receipt === 'last'
        ? approvalIds.at(-1)
        : current.receipt === 'first'
          ? approvalIds[0]
          : current.receipt === 'forged'
            ? 'appr-forged'
            : undefined;
    const before = world.length;
    const context: CallContext = {
      runId,
      callId: `call_${++callNumber}`,
      audit: async () => ({ id: `${runId}:${callNumber}` }),
      approvals: store.approvals,
      now: () => new Date(),
      toolCallsSoFar: toolCalls,
      actionsSoFar: { ...actions },
      ...(receipt ? { receipt } : {}),
      taint: { tainted: current.tainted, args: current.tainted ? ['host'] : [] },
      ...(current.injection ? { injection: true } : {}),
    };
    const outcome = await gateway.call(context, current.tool, args);
    const tier =
      current.tool === 'ops.note' ? 'reversible' : current.tool === 'ops.wipe' ? 'destructive' : null;
    if (outcome.type !== 'denied' && !receipt && tier) actions[tier]++;
    toolCalls++;
    if (outcome.type === 'approval_required') approvalIds.push(outcome.approval.id);
    const executed = world.slice(before);
    expect(executed.length).toBeLessThanOrEqual(1);
    const execution = executed[0];
    if (!execution) continue;
    // Consequential executions: a destructive one, or a write of tainted or injection-flagged input.
    if (
      execution.tool === 'ops.wipe' ||
      (execution.tool === 'ops.note' && (current.tainted || current.injection))
    ) {
      expect(receipt, `${execution.tool} executed without a receipt`).toBeDefined();
      const grant = approved.get(receipt ?? '');
      expect(grant, `${execution.tool} executed on receipt ${receipt} that no human approved`).toBeDefined();
      expect(grant?.tool).toBe(execution.tool);
      expect(grant?.argsHash).toBe(hashArgs(execution.args));
      expect(redeemed.has(receipt ?? ''), `receipt ${receipt} used twice`).toBe(false);
      redeemed.add(receipt ?? '');
    }
  }
  const executions = world.slice(seen);
  for (const execution of executions)
    for (const secret of secrets) expect(JSON.stringify(execution.args)).not.toContain(secret);
  expect(executions.length).toBeLessThanOrEqual(limits.maxToolCalls);
  expect(executions.filter((execution) => execution.tool === 'ops.note').length).toBeLessThanOrEqual(
    limits.maxActions.reversible,
  );
  expect(executions.filter((execution) => execution.tool === 'ops.wipe').length).toBeLessThanOrEqual(
    limits.maxActions.destructive,
  );
  if (killedAt !== null) expect(world.length).toBe(killedAt);
}

describe('control layer under random adversarial episodes', () => {
  it('never executes a consequential call without a valid single-use receipt, never lets a secret reach a sink, never overruns a budget', async () => {
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), episode), {
      numRuns: 1000,
      seed: 20261202,
    });
    // The episodes exercised every path, not just denials.
    const tools = new Set(world.map((execution) => execution.tool));
    expect(tools).toEqual(new Set(['ops.lookup', 'ops.note', 'ops.wipe']));
  }, 600_000);
});

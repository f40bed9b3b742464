import { readFileSync } from 'node:fs';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/agent/alert.js';
import { parseAlerts, startRun } from '../../src/agent/index.js';
import { createGateway, type Gateway, type ServerConnection } from '../../src/capability/gateway/index.js';
import { configSchema } from '../../src/config/index.js';
import { createScriptedProvider, type ToolCallBlock } from '../../src/model/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { linkedConnection, tempHome } from '../helpers.js';

const RUN = 'run-pipeline';

let home: string;
let store: Store;
let gateway: Gateway;
/** For each execution of vendor.lookup: the types of the run's events committed at that moment. */
const seenAtExecution: string[][] = [];

/** A vendor server whose tool looks, while it runs, at what the run's audit trail already holds. */
async function vendorServer(): Promise<ServerConnection> {
  const server = new Server({ name: 'vendor', version: '1' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [{ name: 'lookup', inputSchema: { type: 'object' } }],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const runId = String(request.params.arguments?.run ?? RUN);
    seenAtExecution.push((await store.audit.list(runId)).map((event) => event.type));
    return { content: [{ type: 'text', text: JSON.stringify({ hits: 0 }) }] };
  });
  return linkedConnection('vendor', server);
}

const config = configSchema.parse({ servers: {}, tiers: { 'vendor.lookup': 'read' } });

beforeAll(async () => {
  home = tempHome();
  store = await openStore({ home });
  gateway = await createGateway({ config, home, connections: [await vendorServer()] });
});
afterAll(async () => {
  await gateway?.close();
  await store?.close();
});

describe('audit appends that no side effect waits on', () => {
  it('are numbered at once and committed in order with the next write', async () => {
    const first = await store.audit.enqueue('run-queue', 'tool-call-result', { n: 1 }, 'a');
    const second = await store.audit.enqueue('run-queue', 'tool-call-result', { n: 2 }, 'b');
    expect([first.event.id, second.event.id]).toEqual(['run-queue:1', 'run-queue:2']);
    expect(second.event.prevHash).toBe(first.event.hash);
    const third = await store.audit.append('run-queue', 'run-end', {}, 'c');
    // The later commit implies the earlier ones: they are stored, exactly as numbered.
    expect((await store.audit.list('run-queue')).map((event) => [event.id, event.hash])).toEqual(
      [first.event, second.event, third].map((event) => [event.id, event.hash]),
    );
    await expect(first.committed).resolves.toMatchObject({ id: 'run-queue:1' });
  });

  it("let a governed call return before its result is committed, never before the next call's effect", async () => {
    seenAtExecution.length = 0;
    const context = {
      runId: RUN,
      audit: (type: string, data: unknown) => store.audit.append(RUN, type, data, new Date().toISOString()),
      auditQueued: async (type: string, data: unknown) =>
        (await store.audit.enqueue(RUN, type, data, new Date().toISOString())).event,
      approvals: store.approvals,
      now: () => new Date(),
      toolCallsSoFar: 0,
      actionsSoFar: { reversible: 0, destructive: 0 },
    };
    const first = await gateway.call({ ...context, callId: 'c1' }, 'vendor.lookup', { value: 'x' });
    const second = await gateway.call({ ...context, callId: 'c2' }, 'vendor.lookup', { value: 'y' });
    expect(first).toMatchObject({ type: 'executed', ref: `${RUN}:3` });
    expect(second).toMatchObject({ type: 'executed', ref: `${RUN}:6` });
    // Write-ahead: each call ran only once its request and decision were committed, and the second
    // only once the first call's queued result was committed too.
    expect(seenAtExecution).toEqual([
      ['tool-call-request', 'policy-decision'],
      ['tool-call-request', 'policy-decision', 'tool-call-result', 'tool-call-request', 'policy-decision'],
    ]);
    const events = await store.audit.list(RUN);
    expect(events.find((event) => event.id === first.ref)).toMatchObject({
      type: 'tool-call-result',
      data: { callId: 'c1', value: { hits: 0 } },
    });
  });
});

describe('a run whose queued audit write fails', () => {
  it('stops before any further call or model request, and ends failed saying why', async () => {
    const alert = parseAlerts(
      readFileSync('examples/alerts/mshta-powershell.json', 'utf8'),
      'mshta',
    )[0] as Alert;
    const call = (id: string, value: string): ToolCallBlock => ({
      type: 'tool_call',
      id,
      name: 'vendor.lookup',
      input: { value, run: 'run-broken' },
    });
    const provider = createScriptedProvider([{ content: [call('c1', 'a')] }, { content: [call('c2', 'b')] }]);
    // As the store does when a write fails: the first tool result's commit fails, and so does every
    // later append of the run queued behind it.
    let failure: Promise<unknown> | null = null;
    const behindFailure = async () => {
      if (!failure) return;
      await failure.catch(() => {});
      throw new Error('disk full');
    };
    const failing: Store = {
      ...store,
      audit: {
        ...store.audit,
        async append(runId, type, data, at) {
          await behindFailure();
          return store.audit.append(runId, type, data, at);
        },
        async enqueue(runId, type, data, at) {
          await behindFailure();
          const queued = await store.audit.enqueue(runId, type, data, at);
          if (type !== 'tool-call-result') return queued;
          const committed = queued.committed.then(() => {
            throw new Error('disk full');
          });
          committed.catch(() => {});
          failure = committed;
          return { event: queued.event, committed };
        },
      },
    };
    seenAtExecution.length = 0;
    const outcome = await startRun({ store: failing, gateway, provider, skills: [], config }, alert, {
      runId: 'run-broken',
    });
    expect(outcome).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/audit trail of run run-broken could not record an event: .*disk full/),
    });
    expect(seenAtExecution).toHaveLength(1);
    expect(provider.requests).toHaveLength(1);
    expect((await store.runs.get('run-broken'))?.status).toBe('failed');
    const types = (await store.audit.list('run-broken')).map((event) => event.type);
    expect(types.at(-1)).toBe('tool-call-result');
    expect(types).not.toContain('run-end');
  });
});

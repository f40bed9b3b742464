/**
 * Cost of governance, printing JSON: the added latency of one governed read call (kill switch,
 * budgets, tier, Cedar decision, durable audit append of request and decision before the call, the
 * result queued as the agent loop does) against the same call made directly through the MCP client,
 * over in-memory transport; beside it the time until the result is durable too, and the call with
 * every append awaited on its own. An append is durable once written to the audit journal; the
 * database takes the events in behind, when the process is idle: after each round of calls the
 * bench waits for that outside the timed calls and reports it apart (database_write_behind_ms, the
 * whole round's events). Then the Cedar
 * decision alone, uncached (the engine runs every time) and answered from the policy set's decision
 * cache, reported apart. Targets: added p99 ≤ 1 ms, Cedar p99 ≤ 100 µs.
 *
 * Beside the read, the governed call of a write on a bundled server (in-process, transport
 * 'memory'): one that runs on a one-call credential, as every destructive action does (a reversible
 * write runs on the run's standing credential). The bundled servers' own writes persist under a
 * cross-process lock per call (a ticket opens its PGlite database, ~0.2 s; EDR and IAM rewrite a
 * locked state file, milliseconds), which would drown a sub-millisecond figure, so the tool is the
 * intel server's `lookup_indicator`, classified destructive and set to autonomy `auto` here: the
 * gateway treats it exactly as an autonomous write (one-call credential bound to the arguments, minted
 * and audited; write arguments recorded; revocation after use). Its added latency is against the same
 * call sent straight to the server with a valid one-call credential (minted outside the timing);
 * `gateway_own_ms` is the governed time less its MCP round trip: the gateway's own work, without the
 * server's variance that the paired difference carries. After each round, outside the timing, the
 * bench ends the run's credentials (`gateway.endRun`, as at a pause or the run's end; it would wait
 * for anything the call left to revoke) and reports that apart (`revocation_behind_ms`).
 * Usage: node --import tsx bench/governed.ts [--calls N] [--write-calls N] [--decisions N]
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectServer, createGateway } from '../src/capability/gateway/index.js';
import { configSchema } from '../src/config/index.js';
import {
  bundledPoliciesDirectory,
  type CedarRequest,
  createAutonomyBook,
  createCredentialIssuer,
  hashArgs,
  loadCedarPolicies,
  openKillSwitchBoard,
} from '../src/control/index.js';
import { credentialMetaKey, runMetaKey } from '../src/credential/index.js';
import { openStore } from '../src/store/index.js';
import { linkedConnection, tempHome } from '../test/helpers.js';

function percentiles(samples: number[]): { p50: number; p99: number; max: number; n: number } {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const round = (value: number) => Math.round(value * 1000) / 1000;
  return {
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(sorted.at(-1) ?? Number.NaN),
    n: sorted.length,
  };
}

async function lookupServer() {
  const server = new Server({ name: 'vendor', version: '1' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [{ name: 'lookup', inputSchema: { type: 'object' } }],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => ({
    content: [
      { type: 'text', text: JSON.stringify({ indicator: request.params.arguments?.value, hits: 0 }) },
    ],
  }));
  return linkedConnection('vendor', server);
}

/** A call on a one-call credential through the gateway against the same call sent straight to the server. */
async function measureGovernedWrite(calls: number) {
  const home = tempHome('warden-bench-governed-write-');
  const store = await openStore({ home });
  const tool = 'intel.lookup_indicator';
  const config = configSchema.parse({
    servers: { intel: { bundled: 'intel', transport: 'memory' } },
    tiers: { [tool]: 'destructive' },
    autonomy: { classes: { [tool]: 'auto' } },
  });
  const server = config.servers.intel;
  if (!server) throw new Error('bench config lost its intel server');
  const connection = await connectServer('intel', server, {
    home,
    timeoutMs: config.limits.toolTimeoutSeconds * 1000,
  });
  const gateway = await createGateway({
    config,
    home,
    connections: [connection],
    killSwitches: openKillSwitchBoard(home),
    autonomy: createAutonomyBook(config.autonomy),
  });
  // The MCP round trip of the latest call through this connection (the server's own work included):
  // the governed time less it is the gateway's own work on the call, free of the server's variance.
  let roundTripMs = 0;
  const callTool = connection.client.callTool.bind(connection.client);
  connection.client.callTool = async (...request: Parameters<typeof callTool>) => {
    const started = performance.now();
    try {
      return await callTool(...request);
    } finally {
      roundTripMs = performance.now() - started;
    }
  };
  const runId = 'bench-governed-write';
  const audit = (type: string, data: unknown) =>
    store.audit.append(runId, type, data, new Date().toISOString());
  let resultCommitted: Promise<unknown> = Promise.resolve();
  const context = {
    runId,
    audit,
    auditQueued: async (type: string, data: unknown) => {
      const queued = await store.audit.enqueue(runId, type, data, new Date().toISOString());
      resultCommitted = queued.committed;
      return queued.event;
    },
    approvals: store.approvals,
    now: () => new Date(),
    toolCallsSoFar: 0,
    actionsSoFar: { reversible: 0, destructive: 0 },
  };
  // The direct caller holds what the gateway would hand the server: a credential for one call, these arguments.
  const issuer = createCredentialIssuer({ home });
  const args = { value: '203.0.113.7' };
  const name = tool.slice(tool.indexOf('.') + 1);
  const samples = {
    own: [] as number[],
    direct: [] as number[],
    governed: [] as number[],
    added: [] as number[],
    behind: [] as number[],
  };
  const callDirect = async () => {
    const { token } = issuer.mint({
      runId,
      server: 'intel',
      tools: [name],
      argsHash: hashArgs(args),
      ttlSeconds: 60,
    });
    const started = performance.now();
    const direct = await connection.client.callTool({
      name,
      arguments: args,
      _meta: { [credentialMetaKey]: token, [runMetaKey]: runId },
    });
    const elapsed = performance.now() - started;
    if (direct.isError) throw new Error(`direct call failed: ${JSON.stringify(direct.content)}`);
    return elapsed;
  };
  for (let index = 0; index < calls + 200; index++) {
    // Paired and interleaved, so machine load hits both sides alike; the first 200 warm up.
    const directMs = await callDirect();
    let started = performance.now();
    const outcome = await gateway.call({ ...context, callId: `w${index}` }, tool, args);
    const governedMs = performance.now() - started;
    if (outcome.type !== 'executed' || outcome.isError)
      throw new Error(`governed call was ${outcome.type}: ${JSON.stringify(outcome)}`);
    const gatewayOwnMs = governedMs - roundTripMs;
    // Outside the timing: what the run leaves behind for a pause or its end, then the database's write.
    started = performance.now();
    await gateway.endRun(runId, 'bench round', audit);
    const behindMs = performance.now() - started;
    await resultCommitted;
    await store.audit.written();
    // Untimed, as in the read case; here it also has the server read the revocation list that round
    // changed (a cost of the revocation, left to the next call of any server on the home), so that
    // the next timed pair finds the same server state on both sides.
    await callDirect();
    if (index < 200) continue;
    samples.own.push(gatewayOwnMs);
    samples.direct.push(directMs);
    samples.governed.push(governedMs);
    samples.added.push(governedMs - directMs);
    samples.behind.push(behindMs);
  }
  const events = await store.audit.list(runId);
  const count = (type: string) => events.filter((event) => event.type === type).length;
  await gateway.close();
  await store.close();
  rmSync(home, { recursive: true, force: true });
  const addedStats = percentiles(samples.added);
  return {
    tool: `${tool} classified destructive, autonomy auto: a one-call credential per call`,
    direct_ms: percentiles(samples.direct),
    governed_ms: percentiles(samples.governed),
    added_ms: addedStats,
    gateway_own_ms: percentiles(samples.own),
    revocation_behind_ms: percentiles(samples.behind),
    credential_mints_audited: count('credential-mint'),
    credential_revokes_audited: count('credential-revoke'),
    target_added_p99_ms: 1,
    meets_target: addedStats.p99 <= 1,
  };
}

export async function measureGoverned(
  options: { calls?: number; writeCalls?: number; decisions?: number } = {},
) {
  const calls = options.calls ?? 2000;
  const writeCalls = options.writeCalls ?? 2000;
  const decisions = options.decisions ?? 20_000;
  const home = tempHome('warden-bench-governed-');
  const store = await openStore({ home });
  const connection = await lookupServer();
  const config = configSchema.parse({ servers: {}, tiers: { 'vendor.lookup': 'read' } });
  const gateway = await createGateway({
    config,
    home,
    connections: [connection],
    killSwitches: openKillSwitchBoard(home),
  });
  const context = {
    runId: 'bench-governed',
    audit: (type: string, data: unknown) =>
      store.audit.append('bench-governed', type, data, new Date().toISOString()),
    approvals: store.approvals,
    now: () => new Date(),
    toolCallsSoFar: 0,
    actionsSoFar: { reversible: 0, destructive: 0 },
  };
  // As the agent loop calls: the request and decision are committed before the tool runs (write-ahead);
  // the result is numbered and queued, and committed with the run's next write, which every later side
  // effect waits for. The bench then waits for that commit too, to report the time until it is durable.
  let resultCommitted: Promise<unknown> = Promise.resolve();
  const loopContext = {
    ...context,
    auditQueued: async (type: string, data: unknown) => {
      const queued = await store.audit.enqueue('bench-governed', type, data, new Date().toISOString());
      resultCommitted = queued.committed;
      return queued.event;
    },
  };
  const args = { value: '203.0.113.7' };
  const direct: number[] = [];
  const governed: number[] = [];
  const added: number[] = [];
  const addedUntilDurable: number[] = [];
  const addedAwaitingEach: number[] = [];
  const checksOnly: number[] = [];
  const writeBehind: number[] = [];
  let memorySeq = 0;
  // The same checks with the audit kept in memory: separates the control checks from the durable append.
  const memoryContext = { ...context, audit: async () => ({ id: `m:${++memorySeq}` }) };
  for (let index = 0; index < calls + 200; index++) {
    // Paired and interleaved, so machine load hits all sides alike; the first 200 warm up.
    let started = performance.now();
    await connection.client.callTool({ name: 'lookup', arguments: args });
    const directMs = performance.now() - started;
    started = performance.now();
    const outcome = await gateway.call({ ...loopContext, callId: `g${index}` }, 'vendor.lookup', args);
    const governedMs = performance.now() - started;
    await resultCommitted;
    const durableMs = performance.now() - started;
    if (outcome.type !== 'executed') throw new Error(`governed call was ${outcome.type}`);
    started = performance.now();
    await gateway.call({ ...context, callId: `e${index}` }, 'vendor.lookup', args);
    const awaitingEachMs = performance.now() - started;
    started = performance.now();
    await gateway.call({ ...memoryContext, callId: `m${index}` }, 'vendor.lookup', args);
    const checksMs = performance.now() - started;
    // The database write of this round's events, deferred while calls ran back to back (an agent
    // loop is idle most of the time, waiting for its model): not part of any call's latency.
    started = performance.now();
    await store.audit.written();
    const behindMs = performance.now() - started;
    // Untimed: the next round's timed direct call then follows an MCP call, as it did before there was a
    // write behind, not the database's work (which leaves it slower, and the added latency smaller).
    await connection.client.callTool({ name: 'lookup', arguments: args });
    if (index < 200) continue;
    writeBehind.push(behindMs);
    checksOnly.push(checksMs - directMs);
    direct.push(directMs);
    governed.push(governedMs);
    added.push(governedMs - directMs);
    addedUntilDurable.push(durableMs - directMs);
    addedAwaitingEach.push(awaitingEachMs - directMs);
  }
  const auditEvents = (await store.audit.list('bench-governed')).length;
  const write = await measureGovernedWrite(writeCalls);

  const cedar = gateway.policy.cedar;
  // The same policies with the decision cache off: what a decision costs the engine every time.
  const engine = loadCedarPolicies({ directory: bundledPoliciesDirectory, deny: [], cacheSize: 0 });
  if (engine.version !== cedar.version) throw new Error('benchmark policy sets differ');
  const request = {
    runId: 'bench-governed',
    tool: 'edr.isolate_host',
    tier: 'destructive' as const,
    tierSource: 'bundled-default' as const,
    autonomy: 'approve' as const,
    tainted: false,
    taintedArgs: [],
    injectionSignal: false,
    approval: { granted: true, approvers: 1 },
    asset: { kind: 'host' as const, name: 'FIN-WS01', criticality: 'high' as const },
    args: { host: 'FIN-WS01', reason: 'contain' },
  };
  const readRequest = {
    ...request,
    tool: 'siem.search_events',
    tier: 'read' as const,
    autonomy: 'auto' as const,
  };
  // Uncached: every decision runs the engine. Cached: the same requests again, answered from the
  // cache (a hit still builds the request and its key). Interleaved, so load hits all alike.
  const samples = {
    read: [] as number[],
    destructive: [] as number[],
    readHit: [] as number[],
    destructiveHit: [] as number[],
  };
  const time = (set: typeof cedar, input: CedarRequest, into: number[], keep: boolean) => {
    const started = performance.now();
    set.evaluate(input);
    if (keep) into.push((performance.now() - started) * 1000);
  };
  for (let index = 0; index < decisions + 2000; index++) {
    const keep = index >= 2000;
    time(engine, request, samples.destructive, keep);
    time(engine, readRequest, samples.read, keep);
    time(cedar, request, samples.destructiveHit, keep);
    time(cedar, readRequest, samples.readHit, keep);
  }
  const cacheStats = cedar.cacheStats();
  await gateway.close();
  await store.close();
  rmSync(home, { recursive: true, force: true });
  const addedStats = percentiles(added);
  const uncached = percentiles(samples.read);
  const uncachedDestructive = percentiles(samples.destructive);
  const cached = percentiles(samples.readHit);
  const cachedDestructive = percentiles(samples.destructiveHit);
  return {
    governed_read_call: {
      direct_ms: percentiles(direct),
      governed_ms: percentiles(governed),
      added_ms: addedStats,
      added_until_result_durable_ms: percentiles(addedUntilDurable),
      added_awaiting_every_append_ms: percentiles(addedAwaitingEach),
      added_without_durable_audit_ms: percentiles(checksOnly),
      database_write_behind_ms: percentiles(writeBehind),
      audit_events_appended: auditEvents,
      target_added_p99_ms: 1,
      meets_target: addedStats.p99 <= 1,
    },
    governed_write_call: write,
    cedar_decision_us: {
      uncached: { read: uncached, destructive_with_receipt: uncachedDestructive },
      cached: { read: cached, destructive_with_receipt: cachedDestructive },
      cache: cacheStats,
      policies: cedar.policies.length,
      target_p99_us: 100,
      // Both kinds of decision must meet it: a read alone would hide the slower destructive one.
      meets_target_uncached: Math.max(uncached.p99, uncachedDestructive.p99) <= 100,
      meets_target_cached: Math.max(cached.p99, cachedDestructive.p99) <= 100,
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flag = (name: string) => {
    const index = process.argv.indexOf(name);
    return index > 0 ? Number(process.argv[index + 1]) : undefined;
  };
  const calls = flag('--calls');
  const decisions = flag('--decisions');
  const writeCalls = flag('--write-calls');
  const result = await measureGoverned({
    ...(calls ? { calls } : {}),
    ...(writeCalls ? { writeCalls } : {}),
    ...(decisions ? { decisions } : {}),
  });
  process.stdout.write(`${JSON.stringify({ node: process.version, ...result }, null, 2)}\n`);
}

/**
 * Benchmarks of the end-to-end path, printing JSON. Loopback and in-process only.
 * Usage: npm run bench [-- --rounds N]
 */
import { readFileSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseAlerts, startRun } from '../src/agent/index.js';
import { createGateway } from '../src/capability/gateway/index.js';
import { configSchema } from '../src/config/index.js';
import { bundledSkillsDirectory, loadSkills } from '../src/knowledge/index.js';
import { createOfflineAnalyst } from '../src/model/index.js';
import { openStore } from '../src/store/index.js';
import { tempHome } from '../test/helpers.js';
import { auditBenchmark } from './audit.js';
import { measureGoverned } from './governed.js';

const roundsFlag = process.argv.indexOf('--rounds');
const rounds = roundsFlag > 0 ? Number(process.argv[roundsFlag + 1]) : 10;

function stats(samples: number[]): { median: number; p95: number; min: number; max: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    median: round(at(0.5)),
    p95: round(at(0.95)),
    min: round(sorted[0] ?? Number.NaN),
    max: round(sorted.at(-1) ?? Number.NaN),
    n: sorted.length,
  };
}

async function measureGatewayConnect(transport: 'stdio' | 'memory', home: string): Promise<number> {
  const config = configSchema.parse({
    servers: Object.fromEntries(
      ['siem', 'edr', 'intel', 'ticket'].map((name) => [name, { bundled: name, transport }]),
    ),
  });
  const started = performance.now();
  const gateway = await createGateway({ config, home });
  const elapsed = performance.now() - started;
  await gateway.close();
  return elapsed;
}

async function main(): Promise<void> {
  const home = tempHome('warden-bench-');
  const alerts = ['mshta-powershell', 'admin-powershell', 'rundll32-user-dll'].flatMap((name) =>
    parseAlerts(readFileSync(`examples/alerts/${name}.json`, 'utf8'), name),
  );
  const config = configSchema.parse({
    servers: Object.fromEntries(
      ['siem', 'edr', 'intel', 'ticket'].map((name) => [name, { bundled: name, transport: 'memory' }]),
    ),
  });
  const store = await openStore({ home });
  const gateway = await createGateway({ config, home });
  const { skills } = await loadSkills([bundledSkillsDirectory]);
  const provider = createOfflineAnalyst();
  const triageMs: number[] = [];
  const toolCalls: number[] = [];
  const auditEvents: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const alert of alerts) {
      const started = performance.now();
      const outcome = await startRun({ store, gateway, provider, skills, config }, alert);
      triageMs.push(performance.now() - started);
      const events = await store.audit.list(outcome.runId);
      auditEvents.push(events.length);
      toolCalls.push(events.filter((event) => event.type === 'tool-call-request').length);
    }
  }
  const readCallMs: number[] = [];
  const context = {
    runId: 'bench',
    audit: (type: string, data: unknown) => store.audit.append('bench', type, data, new Date().toISOString()),
    approvals: store.approvals,
    now: () => new Date(),
    toolCallsSoFar: 0,
    actionsSoFar: { reversible: 0, destructive: 0 },
  };
  for (let index = 0; index < 200; index++) {
    const started = performance.now();
    await gateway.call({ ...context, callId: `b${index}` }, 'siem.search_events', {
      host: 'FIN-WS01',
      limit: 10,
    });
    readCallMs.push(performance.now() - started);
  }
  await gateway.close();
  await store.close();
  const connectStdio = [
    await measureGatewayConnect('stdio', home),
    await measureGatewayConnect('stdio', home),
  ];
  const connectMemory = [
    await measureGatewayConnect('memory', home),
    await measureGatewayConnect('memory', home),
  ];
  rmSync(home, { recursive: true, force: true });
  const governed = await measureGoverned();
  const result = {
    node: process.version,
    rounds,
    triage_ms_per_alert: stats(triageMs),
    tool_calls_per_alert: stats(toolCalls),
    audit_events_per_alert: stats(auditEvents),
    gateway_read_call_ms: stats(readCallMs),
    ...(await auditBenchmark({ events: 20_000 })),
    gateway_connect_ms: {
      stdio_four_servers: stats(connectStdio),
      memory_four_servers: stats(connectMemory),
    },
    ...governed,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

await main();

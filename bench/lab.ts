/**
 * Lab event store benchmark, printing JSON: ingest rate over the whole Security-Datasets folder,
 * then search and process-tree latency over a store replicated to at least N events (default 10M).
 * Usage: node --import tsx bench/lab.ts [--events N] [--datasets DIR] [--rounds R] [--keep]
 * Replicas (of `events`, `command_events` and `processes`) get shifted seq, ids, hosts, GUIDs and times
 * and share the raw records (kept outside DuckDB) and command lines of their originals, so the free-text
 * search over raw records (not among the timed searches) sees only the originals; the temp store is
 * deleted at the end.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  createStoreBackends,
  labStorePath,
  loadLabPaths,
  openLabStore,
  sampleLabDir,
} from '../src/lab/index.js';
import { eventColumns } from '../src/lab/store/index.js';

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

const targetEvents = Number(flag('events', '10000000'));
const rounds = Number(flag('rounds', '30'));
const datasets = flag(
  'datasets',
  fileURLToPath(new URL('../../shared/datasets/security-datasets/', import.meta.url)),
);

function stats(samples: number[]): { p50: number; p95: number; max: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    max: round(sorted.at(-1) ?? Number.NaN),
    n: sorted.length,
  };
}

async function timed(samples: number[], work: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await work();
  samples.push(performance.now() - started);
}

/** Column expressions of replica `k` (a column of the cross join) of the base rows. */
function replicaSelect(baseSeq: number): string {
  const shifted: Record<string, string> = {
    seq: `seq + k * ${baseSeq}`,
    id: `id || '~r' || k`,
    ts: 'ts + to_days(CAST(k * 30 AS INTEGER))',
    host: `'R' || k || '-' || host`,
    host_key: `'R' || k || '-' || host_key`,
    process_key: `process_key || '-r' || k`,
    process_guid: `CASE WHEN process_key IS NULL THEN NULL ELSE '{' || process_key || '-r' || k || '}' END`,
    parent_key: `parent_key || '-r' || k`,
    parent_guid: `CASE WHEN parent_key IS NULL THEN NULL ELSE '{' || parent_key || '-r' || k || '}' END`,
    target_key: `target_key || '-r' || k`,
  };
  return eventColumns.map(([name]) => shifted[name] ?? name).join(', ');
}

async function main(): Promise<void> {
  if (!existsSync(datasets)) throw new Error(`no Security-Datasets folder at ${datasets} (use --datasets)`);
  const home = mkdtempSync(join(tmpdir(), 'warden-lab-bench-'));
  try {
    await openLabStore(home, { readOnly: false, seedFile: join(sampleLabDir, 'sample-incident.jsonl') }).then(
      (store) => store.close(),
    );
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const loaded = await loadLabPaths(home, [datasets]);
    const ingestSeconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const ingest = {
      files: loaded.loaded,
      failed: loaded.failed,
      events: loaded.events,
      errors: loaded.errorCount,
      seconds: Math.round(ingestSeconds * 100) / 100,
      eventsPerSecond: Math.round(loaded.events / ingestSeconds),
      processCpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
      storeBytesAfterIngest: statSync(labStorePath(home)).size,
    };

    const writer = await openLabStore(home, { readOnly: false, seedFile: '' });
    const [base] = await writer.database.all('SELECT max(seq) AS seq, count(*) AS n FROM events');
    const baseSeq = Number(base?.seq ?? 0);
    const copies = Math.max(0, Math.ceil(targetEvents / Number(base?.n ?? 1)) - 1);
    const replicateStarted = performance.now();
    // One statement per table: DuckDB parallelises it; ordered by replica so zone maps stay tight.
    await writer.database.run(
      `INSERT INTO events SELECT ${replicaSelect(baseSeq)} FROM events, range(1, ${copies + 1}) AS r(k)
       WHERE seq <= ${baseSeq} ORDER BY k, seq`,
    );
    await writer.database.run(
      `INSERT INTO command_events SELECT ${replicaSelect(baseSeq)} FROM command_events, range(1, ${copies + 1}) AS r(k)
       WHERE seq <= ${baseSeq} ORDER BY k, seq`,
    );
    await writer.database.run(`INSERT INTO processes SELECT seq + k * ${baseSeq}, id || '~r' || k,
      ts + to_days(CAST(k * 30 AS INTEGER)), 'R' || k || '-' || host, 'R' || k || '-' || host_key, user_name,
      process_key || '-r' || k, '{' || process_key || '-r' || k || '}', process_pid, process_image,
      process_command_line, parent_key || '-r' || k,
      CASE WHEN parent_key IS NULL THEN NULL ELSE '{' || parent_key || '-r' || k || '}' END
      FROM processes, range(1, ${copies + 1}) AS r(k) WHERE seq <= ${baseSeq} ORDER BY k, seq`);
    await writer.database.run('CHECKPOINT');
    const [total] = await writer.database.all('SELECT count(*) AS n FROM events');
    const hosts = await writer.database.all(
      `SELECT host_key, epoch_ms(min(ts)) AS first_ms FROM events GROUP BY host_key HAVING count(*) > 1000 ORDER BY host_key`,
    );
    const guids = await writer.database.all(
      `SELECT process_guid FROM processes WHERE parent_key IS NOT NULL USING SAMPLE 200 ROWS`,
    );
    const parents = await writer.database.all(
      `SELECT p.process_guid FROM processes p WHERE EXISTS (SELECT 1 FROM processes c WHERE c.parent_key = p.process_key)
       USING SAMPLE 200 ROWS`,
    );
    writer.close();
    const replicate = {
      copies,
      seconds: Math.round((performance.now() - replicateStarted) / 10) / 100,
      events: Number(total?.n ?? 0),
      storeBytes: statSync(labStorePath(home)).size,
    };

    const { siem, edr, ready } = createStoreBackends(home);
    const store = await ready();
    const pick = <T>(items: readonly T[], index: number): T => items[index % items.length] as T;
    const hostWindow: number[] = [];
    const commandLine: number[] = [];
    const processGuid: number[] = [];
    const processTree: number[] = [];
    const needles = ['whoami', 'powershell', 'reg add', 'lsass', 'rundll32', 'schtasks'];
    for (let round = 0; round < rounds; round += 1) {
      const host = pick(hosts, round * 7);
      const from = new Date(Number(host.first_ms) + 30 * 60_000);
      const to = new Date(from.getTime() + 60 * 60_000);
      await timed(hostWindow, () =>
        siem.searchEvents({
          host: String(host.host_key),
          from: from.toISOString(),
          to: to.toISOString(),
          limit: 50,
          offset: 0,
        }),
      );
      await timed(commandLine, () =>
        siem.searchEvents({ commandLine: pick(needles, round), limit: 50, offset: 0 }),
      );
      await timed(processGuid, () =>
        siem.searchEvents({ processGuid: String(pick(guids, round).process_guid), limit: 50, offset: 0 }),
      );
      await timed(processTree, () =>
        edr.processTree({ processGuid: String(pick(parents, round).process_guid) }),
      );
    }
    store.close();
    const search = {
      hostAndWindow: stats(hostWindow),
      commandLineSubstring: stats(commandLine),
      processGuid: stats(processGuid),
      all: stats([...hostWindow, ...commandLine, ...processGuid]),
    };
    process.stdout.write(
      `${JSON.stringify({ ingest, replicate, search, processTree: stats(processTree), targets: { ingestEventsPerSecond: 100_000, searchP50P95Ms: 100, processTreeP50Ms: 50 } }, null, 2)}\n`,
    );
  } finally {
    if (process.argv.includes('--keep')) process.stderr.write(`kept the store in ${home}\n`);
    else rmSync(home, { recursive: true, force: true });
  }
}

await main();

/**
 * Audit trail: durable append and verify rates on the real embedded store (PGlite), printing JSON.
 * Part of `npm run bench`; alone: node --import tsx bench/audit.ts [--events N]
 *
 * An append resolves once its event is in the audit journal (durable); the database writes it behind,
 * by group commit. Each append rate is timed until the database holds every event too.
 * - append, serial: one run awaiting each append.
 * - append, concurrent: RUNS runs appending at once, as a worker investigating several alerts does.
 * - append, pipelined: the same runs queueing events and awaiting durability every BARRIER events
 *   (a write-ahead barrier before a side effect) instead of after each one.
 * - verify: the chain check over stored rows held in memory (hash of the stored canonical text, links,
 *   order), and `warden audit verify`'s whole work on a run: the paged read from the database with the
 *   check made page by page (verifyChainPages).
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { verifyChain, verifyChainPages } from '../src/audit/index.js';
import { openStore } from '../src/store/index.js';
import { tempHome } from '../test/helpers.js';

const RUNS = 32;
const BARRIER = 8;
const VERIFY_REPEATS = 5;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function eventData(index: number): unknown {
  // A typical tool-call-result: a few nested fields, ~300 bytes of canonical JSON.
  return {
    callId: `call-${index}`,
    tool: 'siem.search_events',
    isError: false,
    value: {
      total: 1,
      events: [
        {
          '@timestamp': '2026-11-18T09:00:00.000Z',
          host: { name: 'FIN-WS01' },
          process: {
            name: 'powershell.exe',
            pid: 4242 + index,
            command_line: 'powershell.exe -nop -enc SQBFAFgA',
          },
        },
      ],
    },
  };
}

const rate = (count: number, started: number) => Math.round(count / ((performance.now() - started) / 1000));

export async function auditBenchmark(options: { events: number }): Promise<Record<string, number>> {
  const home = tempHome('warden-bench-audit-');
  const store = await openStore({ home });
  try {
    const serialCount = Math.max(500, Math.round(options.events / 4));
    let started = performance.now();
    for (let index = 0; index < serialCount; index++)
      await store.audit.append('serial', 'tool-call-result', eventData(index), new Date().toISOString());
    // An append is durable once journaled; the rates count the database's write behind it too.
    await store.audit.written();
    const serial = rate(serialCount, started);

    const perRun = Math.ceil(options.events / RUNS);
    started = performance.now();
    await Promise.all(
      Array.from({ length: RUNS }, async (_, run) => {
        for (let index = 0; index < perRun; index++)
          await store.audit.append(
            `run-${run}`,
            'tool-call-result',
            eventData(index),
            new Date().toISOString(),
          );
      }),
    );
    await store.audit.written();
    const concurrent = rate(perRun * RUNS, started);

    // Pipelined: each run queues events without awaiting each one and waits for durability every
    // BARRIER events, as before a side effect (the gateway queues a call's request with its decision).
    started = performance.now();
    await Promise.all(
      Array.from({ length: RUNS }, async (_, run) => {
        for (let index = 0; index < perRun; index += BARRIER) {
          const group: Promise<unknown>[] = [];
          for (let k = index; k < Math.min(perRun, index + BARRIER); k++)
            group.push(
              store.audit.append(`pipe-${run}`, 'tool-call-result', eventData(k), new Date().toISOString()),
            );
          await Promise.all(group);
        }
      }),
    );
    await store.audit.written();
    const pipelined = rate(perRun * RUNS, started);

    // One long chain, as `warden audit verify` reads it.
    const long = 'run-long';
    await Promise.all(
      Array.from({ length: 8 }, async (_, lane) => {
        for (let index = lane; index < options.events; index += 8)
          await store.audit.append(long, 'tool-call-result', eventData(index), new Date().toISOString());
      }),
    );
    await store.audit.written();
    // Each verify is repeated: one ~0.1 s timing at 20k events swings by a third with the scheduler and
    // the collector. The median is the figure; the first (coldest) and slowest runs are printed beside it.
    const endToEndRates: number[] = [];
    const checkRates: number[] = [];
    for (let repeat = 0; repeat < VERIFY_REPEATS; repeat++) {
      started = performance.now();
      const endToEnd = await verifyChainPages(long, store.audit.chainPages(long), [], [], () =>
        store.audit.chain(long),
      );
      endToEndRates.push(rate(options.events, started));
      const rows = await store.audit.chain(long);
      const checkStarted = performance.now();
      const report = verifyChain(long, rows, []);
      checkRates.push(Math.round(rows.length / ((performance.now() - checkStarted) / 1000)));
      for (const result of [report, endToEnd])
        if (result.status !== 'ok' || result.events !== options.events)
          throw new Error(`benchmark chain does not verify: ${JSON.stringify(result)}`);
    }
    return {
      audit_events: options.events,
      audit_append_serial_events_per_s: serial,
      audit_append_concurrent_runs: RUNS,
      audit_append_events_per_s: concurrent,
      audit_append_pipelined_barrier_every: BARRIER,
      audit_append_pipelined_events_per_s: pipelined,
      audit_verify_repeats: VERIFY_REPEATS,
      audit_verify_events_per_s: median(checkRates),
      audit_verify_with_read_events_per_s: median(endToEndRates),
      audit_verify_with_read_first_events_per_s: endToEndRates[0] ?? 0,
      audit_verify_with_read_slowest_events_per_s: Math.min(...endToEndRates),
    };
  } finally {
    await store.close();
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flag = process.argv.indexOf('--events');
  const events = flag > 0 ? Number(process.argv[flag + 1]) : 20_000;
  process.stdout.write(`${JSON.stringify(await auditBenchmark({ events }), null, 2)}\n`);
}

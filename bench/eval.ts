/**
 * The offline analyst on an eval suite built from recorded telemetry (`warden eval build`):
 * time per alert (median, p95, as the eval runner measures it: from run start to verdict),
 * recall, strict recall, false-positive rate and precision, with the load average, as JSON.
 * The suite's datasets load into `<home>/eval/<suite>` once; later runs reuse them.
 *
 * Usage: node --import tsx bench/eval.ts [--suite evals/otrf/test] [--concurrency 1] [--home .warden]
 * Skips (prints {"skipped": …} and exits 0) when the suite or its datasets are absent: build the
 * suite first with `warden eval build --spec evals/otrf/build.yaml --split test`.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { configSchema } from '../src/config/index.js';
import { computeMetrics, loadSuite, runSuite } from '../src/eval/index.js';

function flag(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  const value = index > 0 ? process.argv[index + 1] : undefined;
  return value ?? fallback;
}

const suiteDir = resolve(flag('suite', 'evals/otrf/test'));
const concurrency = Number(flag('concurrency', '1'));
const home = resolve(flag('home', '.warden'));
const round = (value: number | null, digits = 4) =>
  value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits;

function skip(reason: string): void {
  console.log(JSON.stringify({ benchmark: 'eval', skipped: reason }, null, 2));
}

async function main(): Promise<void> {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error('--concurrency must be a positive whole number');
  if (!existsSync(join(suiteDir, 'suite.yaml'))) {
    skip(
      `no suite at ${suiteDir}; build it with: warden eval build --spec evals/otrf/build.yaml --split test (needs ../shared/datasets)`,
    );
    return;
  }
  const suite = await loadSuite(suiteDir);
  const missing = suite.datasets.filter((dataset) => !existsSync(dataset));
  if (missing.length > 0) {
    skip(
      `${missing.length} of the suite's ${suite.datasets.length} datasets are absent (first: ${missing[0]})`,
    );
    return;
  }
  const config = configSchema.parse({ home });
  const loadBefore = loadavg();
  const started = performance.now();
  let loadMs = 0;
  const run = await runSuite({
    suite,
    config,
    configPath: null,
    home,
    concurrency,
    resume: false,
    onStart: () => {
      loadMs = performance.now() - started;
    },
  });
  const wallMs = performance.now() - started - loadMs;
  const metrics = computeMetrics(run.results);
  console.log(
    JSON.stringify(
      {
        benchmark: 'eval',
        suite: suite.name,
        provider: config.model.provider,
        cases: metrics.cases,
        malicious: metrics.malicious,
        benign: metrics.benign,
        concurrency,
        recall: round(metrics.recall),
        strictRecall: round(metrics.strictRecall),
        falsePositiveRate: round(metrics.falsePositiveRate),
        precision: round(metrics.precision),
        failed: metrics.failed,
        msPerAlert: { median: Math.round(metrics.ms.median), p95: Math.round(metrics.ms.p95) },
        /** Triage wall time over the case count (setup included, dataset loading excluded). */
        wallMsPerAlert: Math.round(wallMs / Math.max(1, run.results.length)),
        datasetLoadMs: Math.round(loadMs),
        loadAverage: {
          before: loadBefore.map((value) => round(value, 2)),
          after: loadavg().map((value) => round(value, 2)),
        },
      },
      null,
      2,
    ),
  );
}

await main();

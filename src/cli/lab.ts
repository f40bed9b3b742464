import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import type { FileOutcome, LabLoadResult, SourceFile } from '../lab/index.js';
import { loadLabPaths, openLabStore, readLabStatus, sampleLabDir } from '../lab/index.js';
import { cliContext } from './context.js';

/** Errors printed after a load; the summary counts the rest. */
const errorsShown = 20;

/** `warden lab`: load telemetry into the embedded event store and report what it holds. */
export function labCommand(): Command {
  const lab = new Command('lab').description('the embedded lab: event store behind the siem and edr servers');

  lab
    .command('load')
    .description(
      'load Security-Datasets archives (.zip, .tar.gz), JSON lines and evtx_dump JSON into <home>/lab/events.duckdb',
    )
    .argument('<paths...>', 'files or directories (searched recursively)')
    .option('--without-sample', 'when the store is created by this load, leave the sample incident out of it')
    .action(async (paths: string[], options: { withoutSample?: boolean }, command: Command) => {
      const context = await cliContext(command);
      const progress = createProgress();
      const result = await loadLabPaths(context.home, paths, {
        ...(options.withoutSample ? { seedFile: null } : {}),
        onStart: (files) => progress.start(files),
        onFile: (file, outcome) => progress.update(file, outcome),
      });
      progress.stop();
      for (const line of describeLoad(result)) context.out(line);
      if (await holdsSample(context.home)) {
        context.out(
          `note: the store also holds the shipped sample incident; to keep it out, load into a new --home with --without-sample`,
        );
      }
      if (result.loaded === 0 && result.skipped === 0) process.exitCode = 1;
    });

  lab
    .command('status')
    .description('events, hosts, time range and files in the lab event store')
    .option('--json', 'print the status as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const context = await cliContext(command);
      const store = await openLabStore(context.home, {
        readOnly: true,
        seedFile: join(sampleLabDir, 'sample-incident.jsonl'),
      });
      try {
        const status = await readLabStatus(store.database);
        if (options.json) return context.out(JSON.stringify(status, null, 2));
        context.out(
          `${status.events} events from ${status.hosts} hosts, ${status.from ?? '-'} to ${status.to ?? '-'}`,
        );
        context.out(`${status.files.length} files loaded into ${store.database.path}:`);
        for (const file of status.files) {
          const errors = file.errors > 0 ? `, ${file.errors} errors` : '';
          context.out(`  ${file.path} (${file.events} events${errors}, ${file.loadedAt})`);
        }
      } finally {
        store.close();
      }
    });

  return lab;
}

/** The summary line and the errors (file:line: message) of a load. */
export function describeLoad(result: LabLoadResult): string[] {
  const lines = [
    `loaded ${result.loaded} files, skipped ${result.skipped} already loaded, ${result.failed} failed; ` +
      `${result.events} events, ${result.errorCount + result.problems.length} errors`,
  ];
  for (const problem of result.problems) lines.push(`  ${problem.path}: ${problem.message}`);
  for (const error of result.errors.slice(0, errorsShown)) {
    lines.push(`  ${error.file}${error.line === null ? '' : `:${error.line}`}: ${error.message}`);
  }
  const hidden = result.errorCount - Math.min(result.errors.length, errorsShown);
  if (hidden > 0) lines.push(`  … and ${hidden} more errors`);
  return lines;
}

/** A progress bar on stderr, or nothing when stderr is not a terminal (pipes, CI, logs). */
function createProgress(): {
  start(files: readonly SourceFile[]): void;
  update(file: SourceFile, outcome: FileOutcome): void;
  stop(): void;
} {
  if (!process.stderr.isTTY) return { start() {}, update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'loading |{bar}| {percentage}% | {value}/{total} MB | {events} events | {file}',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let bytes = 0;
  let events = 0;
  const megabytes = (value: number) => Math.round(value / 1e5) / 10;
  return {
    start(files) {
      const total = files.reduce((sum, file) => sum + file.size, 0);
      bar.start(megabytes(total), 0, { events: 0, file: '' });
    },
    update(file, outcome) {
      bytes += file.size;
      events += outcome.events;
      bar.update(megabytes(bytes), { events, file: file.path.split(/[\\/]/).at(-1) ?? '' });
    },
    stop: () => bar.stop(),
  };
}

/** True when the sample incident is among the files loaded into the home's store. */
async function holdsSample(home: string): Promise<boolean> {
  const store = await openLabStore(home, { readOnly: true, seedFile: null });
  try {
    const rows = await store.database.all(`SELECT 1 FROM files WHERE stem = 'sample-incident' LIMIT 1`);
    return rows.length > 0;
  } finally {
    store.close();
  }
}

/**
 * Sigma engine benchmark, printing JSON: loads the Windows SigmaHQ rules from ../shared/datasets and
 * evaluates them over N flat events read from the Security-Datasets archives (cycled up to N).
 * Usage: node --import tsx bench/sigma.ts [--events N] [--datasets DIR] [--no-prefilter]
 * (`--no-prefilter` evaluates every rule the logsource routing admits, for comparison.)
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Parser } from 'tar';
import yauzl from 'yauzl';
import { type FlatEvent, flattenWindowsEvent } from '../src/lab/flatten.js';
import { createRuleSet, loadRules } from '../src/lab/sigma/index.js';

function flag(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
}

const eventCount = Number(flag('--events') ?? 1_000_000);
if (!Number.isInteger(eventCount) || eventCount <= 0)
  throw new Error('--events expects a positive whole number');
const datasets = resolve(flag('--datasets') ?? join(import.meta.dirname, '..', '..', 'shared', 'datasets'));

function archives(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(zip|tar\.gz)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** Collects the JSON lines of a stream as flat events; malformed lines are counted, not fatal. */
function collectLines(stream: Readable, events: FlatEvent[], errors: { count: number }): Promise<void> {
  return new Promise((done, fail) => {
    let rest = '';
    const take = (line: string) => {
      if (!line.trim()) return;
      try {
        events.push(flattenWindowsEvent(JSON.parse(line) as Record<string, unknown>));
      } catch {
        errors.count++;
      }
    };
    const decoder = new StringDecoder('utf8');
    stream.on('data', (chunk: Buffer) => {
      const lines = (rest + decoder.write(chunk)).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) take(line);
    });
    stream.once('end', () => {
      take(rest + decoder.end());
      done();
    });
    stream.once('error', fail);
  });
}

function readZip(path: string, events: FlatEvent[], errors: { count: number }): Promise<void> {
  return new Promise((done, fail) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true }, (openError, zip) => {
      if (openError || !zip) return fail(openError ?? new Error(`cannot open ${path}`));
      zip.once('error', fail);
      zip.once('end', () => done());
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return fail(streamError ?? new Error(`cannot read ${path}`));
          collectLines(stream, events, errors).then(() => zip.readEntry(), fail);
        });
      });
      zip.readEntry();
    });
  });
}

async function readTarGz(path: string, events: FlatEvent[], errors: { count: number }): Promise<void> {
  const { createReadStream } = await import('node:fs');
  const pending: Promise<void>[] = [];
  await new Promise<void>((done, fail) => {
    const parser = new Parser({
      onReadEntry: (entry) => {
        if (entry.type !== 'File' || !/\.json/.test(entry.path)) return entry.resume();
        pending.push(collectLines(entry as unknown as Readable, events, errors));
      },
    });
    parser.once('end', () => done());
    parser.once('error', fail);
    createReadStream(path).on('error', fail).pipe(parser);
  });
  await Promise.all(pending);
}

async function main(): Promise<void> {
  const sigma = join(datasets, 'sigma');
  const securityDatasets = join(datasets, 'security-datasets');
  if (!existsSync(sigma) || !existsSync(securityDatasets)) {
    console.log(JSON.stringify({ skipped: `datasets not found under ${datasets}` }));
    return;
  }
  const ruleDirectories = [
    join(sigma, 'rules', 'windows'),
    join(sigma, 'rules-threat-hunting', 'windows'),
    join(sigma, 'rules-emerging-threats'),
  ];
  const loadStarted = performance.now();
  const { rules, unsupported } = await loadRules(ruleDirectories);
  const prefilter = !process.argv.includes('--no-prefilter');
  const ruleSet = createRuleSet(rules, { prefilter });
  const loadSeconds = (performance.now() - loadStarted) / 1000;

  const readStarted = performance.now();
  const sample: FlatEvent[] = [];
  const errors = { count: 0 };
  const files = archives(securityDatasets);
  const unreadable: string[] = [];
  for (const file of files) {
    try {
      if (file.endsWith('.zip')) await readZip(file, sample, errors);
      else await readTarGz(file, sample, errors);
    } catch (error) {
      unreadable.push(`${file.slice(securityDatasets.length + 1)}: ${(error as Error).message.slice(0, 80)}`);
    }
  }
  const readSeconds = (performance.now() - readStarted) / 1000;
  if (sample.length === 0) throw new Error('no events read from the Security-Datasets archives');

  const matchesByRule = new Map<string, number>();
  let matches = 0;
  let candidates = 0;
  const started = performance.now();
  for (let index = 0; index < eventCount; index++) {
    const event = sample[index % sample.length] as FlatEvent;
    const hits = ruleSet.match(event);
    if (hits.length > 0) {
      matches += hits.length;
      for (const hit of hits) matchesByRule.set(hit.rule.title, (matchesByRule.get(hit.rule.title) ?? 0) + 1);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  let evaluated = 0;
  for (const event of sample) {
    candidates += ruleSet.candidates(event);
    evaluated += ruleSet.evaluated(event);
  }
  const topRules = [...matchesByRule.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
  console.log(
    JSON.stringify(
      {
        rulesLoaded: rules.length,
        rulesUnsupported: unsupported.length,
        loadSeconds: round(loadSeconds),
        archives: files.length,
        distinctEvents: sample.length,
        malformedLines: errors.count,
        unreadableArchives: unreadable,
        readSeconds: round(readSeconds),
        events: eventCount,
        prefilter,
        meanCandidateRulesPerEvent: round(candidates / sample.length),
        meanEvaluatedRulesPerEvent: round(evaluated / sample.length),
        totalSeconds: round(seconds),
        eventsPerSecond: Math.round(eventCount / seconds),
        matches,
        distinctRulesMatched: matchesByRule.size,
        topRules: Object.fromEntries(topRules),
      },
      null,
      2,
    ),
  );
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

await main();

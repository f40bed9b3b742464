import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { ConfigError } from '../../errors.js';
import { loadLabPaths } from '../../lab/index.js';
import { listSources } from '../../lab/loaders/index.js';
import { createRuleSet, loadRules, matchToAlert } from '../../lab/sigma/index.js';
import { type LabDatabase, openLabStore, type Row, rawReaderOf } from '../../lab/store/index.js';
import { type AttackerProcesses, attackerProcesses } from './lineage.js';
import { type DatasetMetadata, metadataDirsFor, readMetadataIndex } from './metadata.js';
import { processReference } from './reference.js';

export const ruleLevels = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type RuleLevel = (typeof ruleLevels)[number];

export interface BuildSuiteOptions {
  name: string;
  /** Archives or directories of archives (Security-Datasets layout). */
  datasets: string[];
  rules: string[];
  out: string;
  /** Scratch Warden home the archives are loaded into (reused: a second build skips loading). */
  scratchHome: string;
  minLevel: RuleLevel;
  /** Keep only the datasets of this split; both when absent. */
  split?: 'train' | 'test';
  seed: string;
  /** Share of datasets in the test split. */
  testShare: number;
  /** Most cases per dataset and label (after one-per-rule-and-process deduplication). */
  capPerDataset: number;
  /** Extra `_metadata` folders; by default those beside or above each archive. */
  metadataDirs?: string[];
  onProgress?: (message: string) => void;
}

export interface DatasetSummary {
  archive: string;
  metadata: string | null;
  split: 'train' | 'test';
  seeds: number;
  malicious: number;
  benign: number;
  /** Alerts left out because their event names no acting process, so lineage cannot label them. */
  unlabelled: number;
  /** Why the dataset gave no cases, if it gave none. */
  skipped: string | null;
}

export interface BuildSummary {
  suiteDir: string;
  cases: number;
  malicious: number;
  benign: number;
  /** Alerts left out for naming no acting process (see docs/LABELLING.md). */
  unlabelled: number;
  rules: number;
  datasets: DatasetSummary[];
}

/** Deterministic split by dataset, never by event: a dataset's share of hash space decides. */
export function splitOf(archive: string, seed: string, testShare: number): 'train' | 'test' {
  const digest = createHash('sha256')
    .update(`${seed}\u0000${basename(archive)}`)
    .digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000 < testShare ? 'test' : 'train';
}

interface Selected {
  archive: string;
  metadata: DatasetMetadata;
  summary: DatasetSummary;
  fileId?: number;
  attacker?: AttackerProcesses;
}

/** Builds an eval suite from recorded attacks and Sigma rules; see docs/LABELLING.md for the rule and its limits. */
export async function buildSuite(options: BuildSuiteOptions): Promise<BuildSummary> {
  const progress = options.onProgress ?? (() => {});
  const { files, problems } = await listSources(options.datasets);
  if (problems.length > 0)
    throw new ConfigError(
      `--datasets: ${problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ')}`,
    );
  const archives = files.map((file) => file.path);
  const metadataDirs = [
    ...(options.metadataDirs ?? []),
    ...archives.flatMap((archive) => metadataDirsFor(archive)),
  ];
  const index = await readMetadataIndex(metadataDirs);
  const summaries: DatasetSummary[] = [];
  const selected: Selected[] = [];
  for (const archive of archives) {
    const metadata = index.get(basename(archive)) ?? null;
    const split = splitOf(archive, options.seed, options.testShare);
    const summary: DatasetSummary = {
      archive,
      metadata: metadata?.path ?? null,
      split,
      seeds: 0,
      malicious: 0,
      benign: 0,
      unlabelled: 0,
      skipped: null,
    };
    summaries.push(summary);
    if (options.split && split !== options.split) summary.skipped = `in the ${split} split`;
    else if (!metadata) summary.skipped = 'no _metadata file names this archive';
    else if (metadata.commands.length === 0 && metadata.implants.length === 0)
      summary.skipped = 'the metadata lists no attacker commands or C2 agents';
    else selected.push({ archive, metadata, summary });
  }
  if (selected.length === 0)
    throw new ConfigError('no dataset with metadata in the chosen split; check --datasets and --split');

  progress(`loading ${selected.length} datasets into ${options.scratchHome}`);
  await loadLabPaths(
    options.scratchHome,
    selected.map((entry) => entry.archive),
    { seedFile: null },
  );
  const loaded = await readRules(options.rules, options.minLevel);
  progress(`${loaded.rules.length} rules at level ${options.minLevel} or above`);

  const store = await openLabStore(options.scratchHome, { readOnly: true, seedFile: null });
  const cases: string[] = [];
  try {
    const fileRows = await store.database.all('SELECT file_id, path FROM files');
    const byPath = new Map(fileRows.map((row) => [resolve(String(row.path)), Number(row.file_id)]));
    const byFile = new Map<number, Selected>();
    for (const entry of selected) {
      entry.fileId = byPath.get(resolve(entry.archive));
      if (entry.fileId === undefined) {
        entry.summary.skipped = 'not found in the scratch store after loading';
        continue;
      }
      entry.attacker = await attackerProcesses(
        store.database,
        entry.fileId,
        entry.metadata.commands,
        entry.metadata.implants,
      );
      entry.summary.seeds = entry.attacker.seeds;
      if (entry.attacker.seeds === 0) entry.summary.skipped = 'no recorded process ran an attacker command';
      else byFile.set(entry.fileId, entry);
    }
    const seen = new Set<string>();
    const ruleSet = createRuleSet(loaded.rules);
    const ids = [...byFile.keys()];
    if (ids.length > 0) {
      for await (const row of scanEvents(store.database, ids)) {
        const entry = byFile.get(Number(row.file_id));
        if (!entry?.attacker) continue;
        const event = JSON.parse(String(row.rawJson)) as Record<string, unknown>;
        for (const compiled of ruleSet.match(event)) {
          const alert = matchToAlert(compiled.rule, event, String(row.id));
          const reference = processReference(event, alert.time);
          if (reference === null) {
            // No acting process (a logon, an object access without a process id): lineage cannot say whose it is.
            entry.summary.unlabelled++;
            continue;
          }
          const malicious: boolean = entry.attacker.isAttacker(reference);
          const label = malicious ? 'malicious' : 'benign';
          const processKey = reference.guid ?? `${reference.host}|${reference.pid}`;
          const key = `${entry.fileId}|${compiled.rule.id}|${processKey}|${label}`;
          if (seen.has(key)) continue;
          seen.add(key);
          if (entry.summary[label] >= options.capPerDataset) continue;
          entry.summary[label]++;
          cases.push(
            JSON.stringify({
              id: alert.id,
              alert,
              expected: { verdict: label, techniques: malicious ? entry.metadata.techniques : [] },
              dataset: basename(entry.archive),
            }),
          );
        }
      }
    }
    for (const entry of byFile.values())
      if (entry.summary.malicious + entry.summary.benign === 0)
        entry.summary.skipped = 'no rule matched its events';
  } finally {
    store.close();
  }

  const withCases = selected.filter((entry) => entry.summary.malicious + entry.summary.benign > 0);
  const suiteDir = resolve(options.out);
  await mkdir(suiteDir, { recursive: true });
  await writeFile(join(suiteDir, 'cases.jsonl'), cases.length > 0 ? `${cases.join('\n')}\n` : '');
  await writeFile(
    join(suiteDir, 'suite.yaml'),
    toYaml({
      name: options.name,
      datasets: withCases.map((entry) => relative(suiteDir, entry.archive)),
      cases: 'cases.jsonl',
      build: {
        rules: options.rules.map((rule) => relative(suiteDir, resolve(rule))),
        minLevel: options.minLevel,
        split: options.split ?? 'all',
        seed: options.seed,
        testShare: options.testShare,
        capPerDataset: options.capPerDataset,
        labelling: 'process lineage of the attacker commands in each dataset _metadata (docs/LABELLING.md)',
      },
    }),
  );
  const malicious = summaries.reduce((sum, summary) => sum + summary.malicious, 0);
  return {
    suiteDir,
    cases: cases.length,
    malicious,
    benign: cases.length - malicious,
    unlabelled: summaries.reduce((sum, summary) => sum + summary.unlabelled, 0),
    rules: loaded.rules.length,
    datasets: summaries,
  };
}

async function readRules(directories: string[], minLevel: RuleLevel) {
  const loaded = await loadRules(directories);
  const minimum = ruleLevels.indexOf(minLevel);
  return {
    rules: loaded.rules.filter((compiled) => ruleLevels.indexOf(compiled.rule.level ?? 'medium') >= minimum),
  };
}

/** Events of the given files in load order, a batch of `seq` at a time (the raw records are large). */
async function* scanEvents(database: LabDatabase, fileIds: number[], batch = 20_000): AsyncGenerator<Row> {
  const placeholders = fileIds.map(() => '?').join(', ');
  const [range] = await database.all(
    `SELECT coalesce(min(seq), 0) AS first, coalesce(max(seq), 0) AS last FROM events WHERE file_id IN (${placeholders})`,
    fileIds,
  );
  const last = Number(range?.last ?? 0);
  const raw = rawReaderOf(database);
  for (let from = Number(range?.first ?? 0) - 1; from < last; from += batch) {
    const rows = await database.all(
      `SELECT id, file_id, raw_offset, raw_length FROM events WHERE seq > ?::BIGINT AND seq <= ?::BIGINT AND file_id IN (${placeholders}) ORDER BY seq`,
      [from, from + batch, ...fileIds],
    );
    const records = await raw.read(rows);
    yield* rows.map((row, index) => ({ ...row, rawJson: records[index] }));
  }
}

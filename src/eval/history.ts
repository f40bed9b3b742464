/**
 * The eval results the autonomy ladder reads: every `warden eval` appends one line to
 * `<home>/evals/history.jsonl` (suite, provider, recall, false-positive rate), so promotion and
 * demotion rest on recorded eval evidence of the provider the runs actually use, without anyone
 * having to hand the reports over.
 */

import { existsSync, readFileSync, statSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { EvidenceSource } from '../control/index.js';
import { logger } from '../logging.js';
import type { EvalReport } from './report.js';

const entrySchema = z.object({
  at: z.string(),
  suite: z.string(),
  provider: z.string(),
  cases: z.number().int().nonnegative(),
  recall: z.number().min(0).max(1).nullable(),
  falsePositiveRate: z.number().min(0).max(1).nullable(),
});

export type EvalHistoryEntry = z.infer<typeof entrySchema>;

/** Eval runs the ladder looks back over (the latest ones of the provider). */
export const EVAL_EVIDENCE_WINDOW = 10;

export function evalHistoryPath(home: string): string {
  return join(home, 'evals', 'history.jsonl');
}

export async function recordEvalResult(home: string, report: EvalReport): Promise<EvalHistoryEntry> {
  const entry: EvalHistoryEntry = {
    at: report.createdAt,
    suite: report.suite,
    provider: report.provider,
    cases: report.metrics.cases,
    recall: report.metrics.recall,
    falsePositiveRate: report.metrics.falsePositiveRate,
  };
  const path = evalHistoryPath(home);
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, `${JSON.stringify(entry)}\n`);
  return entry;
}

/** The recorded eval runs, oldest first; a damaged line is skipped with a warning, never fatal. */
export function readEvalHistory(home: string): EvalHistoryEntry[] {
  const path = evalHistoryPath(home);
  if (!existsSync(path)) return [];
  const entries: EvalHistoryEntry[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (line.trim() === '') return;
      try {
        entries.push(entrySchema.parse(JSON.parse(line)));
      } catch {
        logger.warn({ path, line: index + 1 }, 'eval history line is not a valid entry; skipped');
      }
    });
  return entries;
}

/**
 * Eval evidence for every action class: the provider's latest eval runs with a malicious recall
 * (suites without malicious cases say nothing about it) and the lowest recall among them.
 */
export function evalEvidenceSource(home: string, provider: string): EvidenceSource {
  // Asked once per action class: the file is read again only when it changed.
  let cached: { stamp: string; evidence: { evalRuns: number; evalRecall?: number } } | null = null;
  return async () => {
    const stats = statSync(evalHistoryPath(home), { throwIfNoEntry: false });
    const stamp = stats ? `${stats.ino}:${stats.size}:${stats.mtimeMs}` : 'absent';
    if (cached?.stamp !== stamp) {
      const recalls = readEvalHistory(home)
        .filter((entry) => entry.provider === provider && entry.recall !== null)
        .slice(-EVAL_EVIDENCE_WINDOW)
        .map((entry) => entry.recall as number);
      const evidence = {
        evalRuns: recalls.length,
        ...(recalls.length > 0 ? { evalRecall: Math.min(...recalls) } : {}),
      };
      cached = { stamp, evidence };
    }
    return cached.evidence;
  };
}

import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { WARDEN_VERSION } from '../version.js';
import {
  type CaseLink,
  computeMetrics,
  type EvalMetrics,
  falseNegatives,
  falsePositives,
  type TechniqueBreakdown,
  techniqueBreakdown,
} from './metrics.js';
import type { CaseResult } from './types.js';

/** The machine-readable result of one eval run (`--out report.json`), also the `--baseline` input. */
export interface EvalReport {
  format: 'warden-eval-report/1';
  suite: string;
  provider: string;
  wardenVersion: string;
  createdAt: string;
  home: string;
  metrics: EvalMetrics;
  falseNegatives: CaseLink[];
  falsePositives: CaseLink[];
  techniques: TechniqueBreakdown[];
  results: CaseResult[];
}

export function buildReport(options: {
  suite: string;
  provider: string;
  home: string;
  results: readonly CaseResult[];
  /** How to show a run's audit trail, e.g. `warden --home <h> audit show <run>`. */
  auditCommand: (runId: string) => string;
  now?: Date;
}): EvalReport {
  return {
    format: 'warden-eval-report/1',
    suite: options.suite,
    provider: options.provider,
    wardenVersion: WARDEN_VERSION,
    createdAt: (options.now ?? new Date()).toISOString(),
    home: options.home,
    metrics: computeMetrics(options.results),
    falseNegatives: falseNegatives(options.results, options.auditCommand),
    falsePositives: falsePositives(options.results, options.auditCommand),
    techniques: techniqueBreakdown(options.results),
    results: [...options.results],
  };
}

const ratio = z.number().min(0).max(1).nullable();
const baselineSchema = z.looseObject({
  format: z.literal('warden-eval-report/1'),
  suite: z.string(),
  metrics: z.looseObject({ recall: ratio, precision: ratio, falsePositiveRate: ratio }),
});

export type BaselineReport = z.infer<typeof baselineSchema>;

/** Reads a report written by `warden eval --out`, to compare against. */
export async function readBaseline(path: string): Promise<BaselineReport> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new InputError(`cannot read baseline ${path}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = baselineSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      `baseline ${path}: field '${issue?.path.join('.') || '(root)'}' is invalid (${issue?.message}); give a report written by \`warden eval --out\``,
    );
  }
  return parsed.data;
}

export interface Regression {
  metric: 'recall' | 'precision' | 'falsePositiveRate';
  baseline: number;
  current: number | null;
}

/**
 * Metrics that got worse than the baseline by more than `tolerance` (absolute): recall or precision
 * lower, false-positive rate higher. A metric the baseline had but this run cannot compute counts too.
 */
export function compareToBaseline(
  current: EvalMetrics,
  baseline: BaselineReport,
  tolerance: number,
): Regression[] {
  const regressions: Regression[] = [];
  const lower = (metric: 'recall' | 'precision') => {
    const before = baseline.metrics[metric];
    const now = current[metric];
    if (before === null) return;
    if (now === null || now < before - tolerance)
      regressions.push({ metric, baseline: before, current: now });
  };
  lower('recall');
  lower('precision');
  const before = baseline.metrics.falsePositiveRate;
  const now = current.falsePositiveRate;
  if (before !== null && (now === null || now > before + tolerance))
    regressions.push({ metric: 'falsePositiveRate', baseline: before, current: now });
  return regressions;
}

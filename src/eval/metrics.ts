import type { CaseResult, GotVerdict } from './types.js';

export type ConfusionRow = Record<GotVerdict, number>;

/** Expected (rows) × answered (columns). */
export interface ConfusionMatrix {
  malicious: ConfusionRow;
  benign: ConfusionRow;
}

export interface Distribution {
  mean: number;
  median: number;
  p95: number;
  total: number;
}

export interface EvalMetrics {
  cases: number;
  malicious: number;
  benign: number;
  confusion: ConfusionMatrix;
  /** Malicious cases caught (answered malicious or suspicious) / malicious cases; null without any. */
  recall: number | null;
  /** Malicious cases answered malicious / malicious cases. */
  strictRecall: number | null;
  /** Expected-malicious share of the cases answered malicious or suspicious; null when none was. */
  precision: number | null;
  /** Benign cases answered malicious or suspicious / benign cases. */
  falsePositiveRate: number | null;
  /** Share of all cases left to a human: answered suspicious, or no verdict. */
  escalationRate: number | null;
  failed: number;
  toolCalls: Distribution;
  tokens: Distribution;
  costUsd: Distribution;
  ms: Distribution;
}

export interface CaseLink {
  caseId: string;
  runId: string | null;
  title: string;
  got: GotVerdict;
  dataset: string | null;
  /** The command that shows everything the run saw and did. */
  audit: string | null;
}

export interface TechniqueBreakdown {
  technique: string;
  cases: number;
  caught: number;
  strict: number;
  recall: number;
}

const emptyRow = (): ConfusionRow => ({ malicious: 0, suspicious: 0, benign: 0, failed: 0 });

const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? 0;
}

export function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    mean: sorted.length === 0 ? 0 : total / sorted.length,
    median: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    total,
  };
}

const caught = (got: GotVerdict) => got === 'malicious' || got === 'suspicious';

export function computeMetrics(results: readonly CaseResult[]): EvalMetrics {
  const confusion: ConfusionMatrix = { malicious: emptyRow(), benign: emptyRow() };
  for (const result of results) confusion[result.expected][result.got]++;
  const malicious = results.filter((result) => result.expected === 'malicious').length;
  const benign = results.length - malicious;
  const flagged = results.filter((result) => caught(result.got));
  const truePositives = confusion.malicious.malicious + confusion.malicious.suspicious;
  return {
    cases: results.length,
    malicious,
    benign,
    confusion,
    recall: ratio(truePositives, malicious),
    strictRecall: ratio(confusion.malicious.malicious, malicious),
    precision: ratio(truePositives, flagged.length),
    falsePositiveRate: ratio(confusion.benign.malicious + confusion.benign.suspicious, benign),
    escalationRate: ratio(
      results.filter((result) => result.got === 'suspicious' || result.got === 'failed').length,
      results.length,
    ),
    failed: results.filter((result) => result.got === 'failed').length,
    toolCalls: distribution(results.map((result) => result.toolCalls)),
    tokens: distribution(results.map((result) => result.tokens)),
    costUsd: distribution(results.map((result) => result.costUsd)),
    ms: distribution(results.map((result) => result.ms)),
  };
}

function link(result: CaseResult, auditCommand: (runId: string) => string): CaseLink {
  return {
    caseId: result.caseId,
    runId: result.runId,
    title: result.alertTitle,
    got: result.got,
    dataset: result.dataset,
    audit: result.runId ? auditCommand(result.runId) : null,
  };
}

/** Expected-malicious cases answered benign or without a verdict: the worst outcome. */
export function falseNegatives(
  results: readonly CaseResult[],
  auditCommand: (runId: string) => string,
): CaseLink[] {
  return results
    .filter((result) => result.expected === 'malicious' && !caught(result.got))
    .map((result) => link(result, auditCommand));
}

export function falsePositives(
  results: readonly CaseResult[],
  auditCommand: (runId: string) => string,
): CaseLink[] {
  return results
    .filter((result) => result.expected === 'benign' && caught(result.got))
    .map((result) => link(result, auditCommand));
}

/** Recall per expected ATT&CK technique (a sub-technique also counts for its parent). */
export function techniqueBreakdown(results: readonly CaseResult[]): TechniqueBreakdown[] {
  const rows = new Map<string, TechniqueBreakdown>();
  for (const result of results) {
    if (result.expected !== 'malicious') continue;
    const techniques = new Set<string>();
    for (const technique of result.expectedTechniques) {
      techniques.add(technique);
      techniques.add(technique.split('.')[0] ?? technique);
    }
    if (techniques.size === 0) techniques.add('(none)');
    for (const technique of techniques) {
      const row = rows.get(technique) ?? { technique, cases: 0, caught: 0, strict: 0, recall: 0 };
      row.cases++;
      if (caught(result.got)) row.caught++;
      if (result.got === 'malicious') row.strict++;
      row.recall = row.caught / row.cases;
      rows.set(technique, row);
    }
  }
  return [...rows.values()].sort((a, b) => a.technique.localeCompare(b.technique));
}

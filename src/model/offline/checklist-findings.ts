import type { ChecklistCondition, ChecklistMatch, ChecklistOutcome } from '../../knowledge/index.js';
import { checklistState, type StepProgress, stepProgress, valueAt } from './checklists.js';
import { clip } from './redact.js';
import type { Transcript } from './transcript.js';
import type { AlertFacts, ChecklistFinding, Feature } from './types.js';

interface Answer {
  items: unknown[];
  count: number;
}

const maxItems = 1000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The counted list (the `count` path, else the first list of the result) and the count (`total` wins). */
function answerOf(value: unknown, countPath: string | undefined): Answer {
  if (countPath) {
    const at = valueAt(value, countPath);
    if (Array.isArray(at)) return { items: at.slice(0, maxItems), count: at.length };
    return { items: [], count: typeof at === 'number' ? at : 0 };
  }
  const record = isRecord(value) ? value : {};
  const list = Object.values(record).find(Array.isArray) ?? [];
  const count = typeof record.total === 'number' ? record.total : list.length;
  return { items: list.slice(0, maxItems), count };
}

function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function regex(source: string): RegExp | null {
  try {
    return new RegExp(source, 'i');
  } catch {
    return null;
  }
}

function matchingItems(items: readonly unknown[], test: ChecklistMatch): unknown[] {
  const pattern = regex(test.pattern);
  const except = test.except ? regex(test.except.pattern) : null;
  if (!pattern) return [];
  return items.filter((item) => {
    if (!pattern.test(text(valueAt(item, test.field)).slice(0, 8192))) return false;
    return !(except && test.except && except.test(text(valueAt(item, test.except.field)).slice(0, 8192)));
  });
}

interface Evaluation {
  holds: boolean;
  matched: unknown[];
  distinct: number;
  examples: string[];
}

function evaluate(condition: ChecklistCondition, answer: Answer): Evaluation {
  let holds = true;
  let matched: unknown[] = [];
  let distinct = 0;
  const examples: string[] = [];
  if (condition.count_gt !== undefined) holds &&= answer.count > condition.count_gt;
  if (condition.count_lt !== undefined) holds &&= answer.count < condition.count_lt;
  for (const test of [condition.match ?? []].flat()) {
    const found = matchingItems(answer.items, test);
    holds &&= found.length >= test.min;
    matched = [...new Set([...matched, ...found])];
    for (const item of found.slice(0, 3)) examples.push(text(valueAt(item, test.show ?? test.field)));
  }
  if (condition.no_match) {
    const found = matchingItems(answer.items, { ...condition.no_match, min: 1 });
    holds &&= found.length === 0;
  }
  if (condition.distinct_gt) {
    const { field, value } = condition.distinct_gt;
    const values = new Set(
      answer.items.map((item) => text(valueAt(item, field)).toLowerCase()).filter(Boolean),
    );
    distinct = values.size;
    holds &&= distinct > value;
    examples.push(...[...values].slice(0, 3));
  }
  if (condition.any_gt) {
    const { field, value } = condition.any_gt;
    const over = answer.items.filter((item) => Number(valueAt(item, field)) > value);
    holds &&= over.length > 0;
    matched = [...new Set([...matched, ...over])];
  }
  return { holds, matched, distinct, examples: [...new Set(examples)].filter(Boolean) };
}

function fill(claim: string, answer: Answer, evaluation: Evaluation | null): string {
  const examples = (evaluation?.examples ?? []).map((example) => `"${clip(example, 100)}"`).join(', ');
  return claim
    .replace(/\{\{\s*count\s*\}\}/g, String(answer.count))
    .replace(/\{\{\s*matched\s*\}\}/g, String(evaluation?.matched.length ?? 0))
    .replace(/\{\{\s*distinct\s*\}\}/g, String(evaluation?.distinct ?? 0))
    .replace(/\{\{\s*examples\s*\}\}/g, examples || 'none');
}

function finding(progress: StepProgress, outcome: ChecklistOutcome | null, claim: string, refs: string[]) {
  return {
    skill: progress.skill,
    step: progress.step.id,
    question: progress.step.question,
    signal: outcome?.signal ?? null,
    weight: outcome?.weight ?? 0,
    claim: clip(claim, 600),
    techniques: outcome?.techniques ?? [],
    refs,
  };
}

/** Every answered step of the applicable checklists, judged by its own `when`/`hit`/`miss`. */
export function checklistFindings(alert: AlertFacts, transcript: Transcript): ChecklistFinding[] {
  const findings: ChecklistFinding[] = [];
  for (const progress of stepProgress(alert, transcript, checklistState(transcript))) {
    const result = progress.exchange?.result;
    if (!result) continue;
    const refs = [result.ref, progress.checklistRef];
    if (result.isError) {
      const reason = isRecord(result.value) ? text(result.value.error) || 'error' : 'error';
      findings.push(finding(progress, null, `could not be answered (${clip(reason, 60)})`, refs));
      continue;
    }
    const { step } = progress;
    const answer = answerOf(result.value, step.count);
    if (!step.when) {
      findings.push(finding(progress, null, `${answer.count} result(s)`, refs));
      continue;
    }
    const evaluation = evaluate(step.when, answer);
    const outcome = evaluation.holds ? (step.hit ?? null) : (step.miss ?? null);
    const claim = outcome
      ? fill(outcome.claim, answer, evaluation)
      : `${answer.count} result(s); ${evaluation.holds ? 'the check held' : 'nothing of note'}`;
    findings.push(finding(progress, outcome, claim, refs));
  }
  return findings;
}

/**
 * Checklist findings as verdict features. A signal counts once, at its heaviest finding; a signal
 * the analyst's own detectors already scored is cited as corroboration with no extra weight.
 */
export function checklistFeatures(
  findings: readonly ChecklistFinding[],
  scored: readonly Feature[],
): Feature[] {
  const strongest = new Map<string, ChecklistFinding>();
  for (const item of findings) {
    if (!item.signal || item.weight === 0) continue;
    const best = strongest.get(item.signal);
    if (!best || Math.abs(item.weight) > Math.abs(best.weight)) strongest.set(item.signal, item);
  }
  const scoredIds = new Set(scored.filter((feature) => feature.weight !== 0).map((feature) => feature.id));
  return findings.map((item) => {
    const counts = item.signal !== null && strongest.get(item.signal) === item && !scoredIds.has(item.signal);
    const note =
      item.signal && !counts && item.weight !== 0
        ? ` (${item.signal}: already counted${scoredIds.has(item.signal) ? ' by the analyst' : ''})`
        : '';
    return {
      id: counts && item.signal ? item.signal : 'runbook-check',
      weight: counts ? item.weight : 0,
      claim: `Runbook ${item.skill}, step ${item.step} — ${item.question} ${item.claim.replace(/\.$/, '')}${note}.`,
      refs: item.refs,
      techniques: counts && item.weight > 0 ? item.techniques : [],
      processKeys: [],
    };
  });
}

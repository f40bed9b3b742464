import type { FeedbackRecord, Store } from '../store/index.js';
import type { EvalReport } from './report.js';

/** Human agreement with the agent on one action class (a tool, `server.tool`). */
export interface ActionClassStats {
  actionClass: string;
  /** Approval decisions and reviews of actions counted (expired approvals are not decisions). */
  decisions: number;
  agreements: number;
  disagreements: number;
  /** Executed reversible/destructive actions an analyst marked wrong. */
  criticalReversals: number;
  lastCriticalAt: string | null;
}

export interface VerdictStats {
  /** Runs whose verdict an analyst labelled (the latest label per run counts). */
  reviewed: number;
  agreed: number;
  agreement: number | null;
  /** Reviewed runs per analyst label. */
  byLabel: Record<'malicious' | 'suspicious' | 'benign', number>;
}

export interface FeedbackStats {
  classes: ActionClassStats[];
  verdicts: VerdictStats;
}

/** The shape the autonomy ladder takes as evidence for one action class. */
export interface AutonomyEvidence {
  decisions: number;
  agreements: number;
  criticalReversals: number;
  evalRuns?: number;
  evalRecall?: number;
}

const everything = 1_000_000;

function latestBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T> {
  const latest = new Map<string, T>();
  for (const item of items) latest.set(key(item), item);
  return latest;
}

/**
 * Agreement per action class: each decided approval counts once, as its latest analyst review when
 * there is one, else as the approver's decision (approved = agreed with the agent's proposal);
 * each reviewed action without an approval counts once (the latest review of it in its run).
 */
export async function feedbackStats(store: Store): Promise<FeedbackStats> {
  const [approvals, feedback] = await Promise.all([
    store.approvals.list({ limit: everything }),
    store.feedback.list({ limit: everything }),
  ]);
  const classes = new Map<string, ActionClassStats>();
  const count = (actionClass: string, agree: boolean, critical: boolean, at: string | null) => {
    const row = classes.get(actionClass) ?? {
      actionClass,
      decisions: 0,
      agreements: 0,
      disagreements: 0,
      criticalReversals: 0,
      lastCriticalAt: null,
    };
    row.decisions++;
    if (agree) row.agreements++;
    else row.disagreements++;
    if (critical) {
      row.criticalReversals++;
      if (at && (!row.lastCriticalAt || at > row.lastCriticalAt)) row.lastCriticalAt = at;
    }
    classes.set(actionClass, row);
  };

  const reviews = latestBy(
    feedback.filter((entry) => entry.kind === 'approval'),
    (entry) => entry.approvalId ?? '',
  );
  for (const approval of approvals) {
    const review = reviews.get(approval.id);
    if (review) count(approval.tool, review.agree, review.critical, review.at);
    else if (approval.status === 'approved' || approval.status === 'denied')
      count(approval.tool, approval.status === 'approved', false, null);
  }
  const actions = latestBy(
    feedback.filter((entry) => entry.kind === 'action'),
    (entry) => `${entry.runId}\u0000${entry.actionClass}`,
  );
  for (const entry of actions.values()) count(entry.actionClass ?? '', entry.agree, entry.critical, entry.at);

  return {
    classes: [...classes.values()].sort((a, b) => a.actionClass.localeCompare(b.actionClass)),
    verdicts: verdictStats(feedback),
  };
}

function verdictStats(feedback: readonly FeedbackRecord[]): VerdictStats {
  const latest = latestBy(
    feedback.filter((entry) => entry.kind === 'verdict'),
    (entry) => entry.runId,
  );
  const entries = [...latest.values()];
  const agreed = entries.filter((entry) => entry.agree).length;
  return {
    reviewed: entries.length,
    agreed,
    agreement: entries.length === 0 ? null : agreed / entries.length,
    byLabel: {
      malicious: entries.filter((entry) => entry.verdict === 'malicious').length,
      suspicious: entries.filter((entry) => entry.verdict === 'suspicious').length,
      benign: entries.filter((entry) => entry.verdict === 'benign').length,
    },
  };
}

/** What eval reports say about the analyst: how many runs, and the lowest malicious recall among them. */
export function evalEvidence(reports: EvalReport | readonly EvalReport[]): {
  evalRuns: number;
  evalRecall: number;
} {
  const list = Array.isArray(reports) ? reports : [reports as EvalReport];
  const recalls = list.map((report) => report.metrics.recall ?? 0);
  return { evalRuns: list.length, evalRecall: recalls.length === 0 ? 0 : Math.min(...recalls) };
}

/** Feedback joined with eval results: the evidence per action class the autonomy ladder promotes and demotes on. */
export function autonomyEvidence(
  stats: FeedbackStats,
  evaluation?: { evalRuns: number; evalRecall: number },
): Record<string, AutonomyEvidence> {
  return Object.fromEntries(
    stats.classes.map((row) => [
      row.actionClass,
      {
        decisions: row.decisions,
        agreements: row.agreements,
        criticalReversals: row.criticalReversals,
        ...(evaluation ? { evalRuns: evaluation.evalRuns, evalRecall: evaluation.evalRecall } : {}),
      },
    ]),
  );
}

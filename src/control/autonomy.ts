import type { Tier, WardenConfig } from '../config/index.js';
import { StateError } from '../errors.js';
import type { AutonomyChangeRecord, AutonomyStore } from '../store/index.js';
import type { AutonomyLevel } from './cedar.js';
import { defaultAutonomy } from './policy.js';

/** The ladder, lowest autonomy first. */
export const autonomyLadder: readonly AutonomyLevel[] = ['suggest', 'approve', 'notify', 'auto'];

/** Human decisions on a class considered for promotion and demotion: the most recent ones. */
export const EVIDENCE_WINDOW = 100;

export type AutonomySettings = Omit<WardenConfig['autonomy'], 'minEvalRuns'> & {
  /** Eval runs needed for promotion (config default 1; absent means none). */
  minEvalRuns?: number;
};

/** What a promotion rests on. `evalRuns`/`evalRecall` come from eval results when wired in. */
export interface AutonomyEvidence {
  /** Human decisions (approved + denied) over the evidence window. */
  decisions: number;
  /** Of those, approvals: the human agreed with the agent's proposed action. */
  agreements: number;
  /** Executed actions analysts later marked as wrong and harmful. */
  criticalReversals: number;
  evalRuns?: number;
  evalRecall?: number;
}

/** Extra evidence beyond the approvals table (analyst feedback, eval results), per action class. */
export type EvidenceSource = (
  actionClass: string,
) => Promise<Partial<Pick<AutonomyEvidence, 'criticalReversals' | 'evalRuns' | 'evalRecall'>>>;

export async function gatherEvidence(
  store: AutonomyStore,
  actionClass: string,
  extra?: EvidenceSource,
): Promise<AutonomyEvidence> {
  const { approved, denied } = await store.humanDecisions(actionClass, EVIDENCE_WINDOW);
  // Analysts' later reviews (warden feedback) count as decisions too; a critical reversal blocks.
  const reviews = await store.actionReviews(actionClass, EVIDENCE_WINDOW);
  const more = extra ? await extra(actionClass) : {};
  return {
    decisions: approved + denied + reviews.agreed + reviews.disagreed,
    agreements: approved + reviews.agreed,
    criticalReversals: reviews.criticalReversals + (more.criticalReversals ?? 0),
    ...(more.evalRuns !== undefined ? { evalRuns: more.evalRuns } : {}),
    ...(more.evalRecall !== undefined ? { evalRecall: more.evalRecall } : {}),
  };
}

export function agreementOf(evidence: AutonomyEvidence): number | null {
  return evidence.decisions === 0 ? null : evidence.agreements / evidence.decisions;
}

/** What stands between a class and promotion; empty when the evidence suffices. */
export function missingForPromotion(evidence: AutonomyEvidence, settings: AutonomySettings): string[] {
  const missing: string[] = [];
  if (evidence.decisions < settings.minDecisions)
    missing.push(
      `${evidence.decisions} human decisions recorded, autonomy.minDecisions needs ${settings.minDecisions}`,
    );
  const agreement = agreementOf(evidence);
  if (agreement !== null && agreement < settings.minAgreement)
    missing.push(
      `approval agreement ${(agreement * 100).toFixed(1)}% is below autonomy.minAgreement ${(settings.minAgreement * 100).toFixed(1)}%`,
    );
  if (evidence.criticalReversals > 0)
    missing.push(`${evidence.criticalReversals} critical reversal(s) recorded; promotion needs zero`);
  const minEvalRuns = settings.minEvalRuns ?? 0;
  if (minEvalRuns > 0 && (evidence.evalRuns ?? 0) < minEvalRuns)
    missing.push(
      `${evidence.evalRuns ?? 0} eval runs of this provider recorded, autonomy.minEvalRuns needs ${minEvalRuns} (run \`warden eval <suite>\`)`,
    );
  if (evidence.evalRecall !== undefined && evidence.evalRecall < settings.minAgreement)
    missing.push(
      `eval recall ${(evidence.evalRecall * 100).toFixed(1)}% over ${evidence.evalRuns ?? 0} runs is below ${(settings.minAgreement * 100).toFixed(1)}%`,
    );
  return missing;
}

/** Why a class at `notify` or `auto` must come down, or null. */
export function demotionReason(evidence: AutonomyEvidence, settings: AutonomySettings): string | null {
  if (evidence.criticalReversals > 0) return `${evidence.criticalReversals} critical reversal(s) recorded`;
  const agreement = agreementOf(evidence);
  if (agreement !== null && agreement < settings.demoteBelow)
    return `approval agreement ${(agreement * 100).toFixed(1)}% fell below autonomy.demoteBelow ${(settings.demoteBelow * 100).toFixed(1)}%`;
  if (evidence.evalRecall !== undefined && evidence.evalRecall < settings.demoteBelow)
    return `eval recall ${(evidence.evalRecall * 100).toFixed(1)}% fell below autonomy.demoteBelow ${(settings.demoteBelow * 100).toFixed(1)}%`;
  return null;
}

/**
 * The autonomy levels in force: a recorded promotion/demotion, else `autonomy.classes`, else the
 * tier default. `levelOf` is synchronous (read per tool call); `refresh` reloads from the store.
 */
export interface AutonomyBook {
  levelOf(actionClass: string, tier: Tier): AutonomyLevel;
  /** Reloads levels, demoting first every promoted class whose evidence fell; returns the demotions. */
  refresh(store: AutonomyStore, now: Date): Promise<AutonomyChangeRecord[]>;
}

export function createAutonomyBook(settings: AutonomySettings, extra?: EvidenceSource): AutonomyBook {
  let recorded = new Map<string, AutonomyLevel>();
  const levelOf = (actionClass: string, tier: Tier) =>
    recorded.get(actionClass) ?? settings.classes[actionClass] ?? defaultAutonomy[tier];
  return {
    levelOf,
    async refresh(store, now) {
      const demoted = await checkDemotions(store, settings, now, extra);
      recorded = new Map((await store.levels()).map((row) => [row.actionClass, row.level]));
      return demoted;
    },
  };
}

function rankOf(level: AutonomyLevel): number {
  return autonomyLadder.indexOf(level);
}

/** Demotes to `approve` every class running without a human (`notify`/`auto`) whose evidence fell. */
export async function checkDemotions(
  store: AutonomyStore,
  settings: AutonomySettings,
  now: Date,
  extra?: EvidenceSource,
  only?: readonly string[],
): Promise<AutonomyChangeRecord[]> {
  const levels = new Map<string, AutonomyLevel>(Object.entries(settings.classes));
  for (const row of await store.levels()) levels.set(row.actionClass, row.level);
  const demoted: AutonomyChangeRecord[] = [];
  for (const [actionClass, level] of levels) {
    if (only && !only.includes(actionClass)) continue;
    if (rankOf(level) <= rankOf('approve')) continue;
    const evidence = await gatherEvidence(store, actionClass, extra);
    const reason = demotionReason(evidence, settings);
    if (!reason) continue;
    const change: AutonomyChangeRecord = {
      actionClass,
      from: level,
      to: 'approve',
      kind: 'auto-demote',
      by: 'warden',
      reason,
      evidence,
      at: now.toISOString(),
    };
    if (await store.change(change)) demoted.push(change);
  }
  return demoted;
}

/** A human's request to move an action class on the ladder: one step, or to `to`. */
export interface LevelChangeRequest {
  actionClass: string;
  current: AutonomyLevel;
  to?: AutonomyLevel;
  by: string;
  reason: string;
  now: Date;
}

/** Moves a class one step up the ladder (or to `to`), only on sufficient evidence. */
export async function promoteClass(
  store: AutonomyStore,
  settings: AutonomySettings,
  request: LevelChangeRequest,
  extra?: EvidenceSource,
): Promise<AutonomyChangeRecord> {
  const target = request.to ?? autonomyLadder[rankOf(request.current) + 1];
  if (!target || rankOf(target) <= rankOf(request.current))
    throw new StateError(
      `${request.actionClass} is at ${request.current}; promotion goes up the ladder ${autonomyLadder.join(' → ')}`,
    );
  const evidence = await gatherEvidence(store, request.actionClass, extra);
  const missing = missingForPromotion(evidence, settings);
  if (missing.length > 0)
    throw new StateError(`cannot promote ${request.actionClass} to ${target}: ${missing.join('; ')}`);
  return record(store, { ...request, to: target, kind: 'promote', evidence });
}

/** Moves a class one step down the ladder (or to `to`); needs no evidence, only a reason. */
export async function demoteClass(
  store: AutonomyStore,
  request: LevelChangeRequest,
  extra?: EvidenceSource,
): Promise<AutonomyChangeRecord> {
  const target = request.to ?? autonomyLadder[rankOf(request.current) - 1];
  if (!target || rankOf(target) >= rankOf(request.current))
    throw new StateError(
      `${request.actionClass} is at ${request.current}; demotion goes down the ladder ${autonomyLadder.join(' → ')}`,
    );
  const evidence = await gatherEvidence(store, request.actionClass, extra);
  return record(store, { ...request, to: target, kind: 'demote', evidence });
}

async function record(
  store: AutonomyStore,
  request: {
    actionClass: string;
    current: AutonomyLevel;
    to: AutonomyLevel;
    kind: AutonomyChangeRecord['kind'];
    by: string;
    reason: string;
    now: Date;
    evidence: AutonomyEvidence;
  },
): Promise<AutonomyChangeRecord> {
  const change: AutonomyChangeRecord = {
    actionClass: request.actionClass,
    from: request.current,
    to: request.to,
    kind: request.kind,
    by: request.by,
    reason: request.reason,
    evidence: request.evidence,
    at: request.now.toISOString(),
  };
  if (!(await store.change(change)))
    throw new StateError(`${request.actionClass} changed level meanwhile; check \`warden autonomy status\``);
  return change;
}

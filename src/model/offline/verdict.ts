import { chainText, recommendActions } from './actions.js';
import { assess, thresholds } from './assess.js';
import { orderedChain } from './chain.js';
import { scoreFeatures } from './features.js';
import { clip } from './redact.js';
import type { AlertFacts, Feature, Observations, OfflineVerdict } from './types.js';

const techniqueId = /^T\d{4}(?:\.\d{3})?$/;
const toolName = /^[\w-]+\.[\w-]+$/;
const maxEvidence = 20;

export interface VerdictInput {
  alert: AlertFacts;
  observations: Observations;
  tools: ReadonlySet<string>;
  /** Questions the plan still had when the budget ran out. */
  skipped: number;
}

function signed(weight: number): string {
  return weight > 0 ? `+${weight}` : String(weight);
}

function evidenceOf(
  features: readonly Feature[],
  alert: AlertFacts,
  observations: Observations,
): OfflineVerdict['evidence'] {
  const items = [...features]
    .filter((feature) => feature.refs.length > 0)
    .sort((left, right) => Math.abs(right.weight) - Math.abs(left.weight))
    .map((feature) => ({
      claim: clip(`${feature.claim} [${feature.id} ${signed(feature.weight)}]`, 1000),
      refs: feature.refs.slice(0, 10),
    }));
  if (!features.some((feature) => feature.weight !== 0 && feature.refs.length > 0)) {
    const focal = orderedChain(observations.processes).find((node) => node.relation === 'focal');
    const refs = focal?.refs.length ? focal.refs : [alert.ref];
    const claim = `No suspicious feature found in the ${observations.processes.length} process(es) examined (${chainText(observations) || 'no process data'}).`;
    items.unshift({ claim: clip(claim, 1000), refs });
  }
  return items.slice(0, maxEvidence);
}

function summaryOf(
  input: VerdictInput,
  features: readonly Feature[],
  verdict: OfflineVerdict['verdict'],
  confidence: number,
  score: number,
  gaps: readonly string[],
  actions: readonly string[],
): string {
  const { observations } = input;
  const top = features
    .filter((feature) => feature.weight !== 0)
    .sort((left, right) => Math.abs(right.weight) - Math.abs(left.weight))
    .slice(0, 4)
    .map((feature) => clip(feature.claim, 240));
  const parts = [
    `${verdict[0]?.toUpperCase()}${verdict.slice(1)} (confidence ${confidence}): score ${score} against thresholds suspicious ≥ ${thresholds.suspicious}, malicious ≥ ${thresholds.malicious}.`,
    `Process chain: ${chainText(observations) || 'not established'}.`,
    top.length > 0 ? `Key findings: ${top.join(' ')}` : 'No suspicious feature was found.',
  ];
  if (verdict === 'benign') {
    parts.push(
      'No response is recommended: nothing in the lineage, command lines, network activity or reputation checks indicates malice.',
    );
  }
  if (observations.skills.length > 0)
    parts.push(`Runbooks consulted: ${observations.skills.map((skill) => skill.name).join(', ')}.`);
  if (gaps.length > 0) parts.push(`Not established: ${gaps.join('; ')}.`);
  const failures = [
    ...new Set(observations.failures.map((failure) => `${failure.tool} (${clip(failure.error, 40)})`)),
  ];
  if (failures.length > 0)
    parts.push(`Calls that failed or were refused: ${failures.slice(0, 8).join(', ')}.`);
  if (actions.length > 0) parts.push(`Recommended: ${actions.join(', ')}.`);
  return clip(parts.join(' '), 3900);
}

/** The verdict, composed from the transcript alone: same transcript, same verdict. */
export function composeVerdict(input: VerdictInput): OfflineVerdict {
  const { alert, observations, tools, skipped } = input;
  const features = scoreFeatures(alert, observations);
  const assessment = assess(alert, observations, features, tools, skipped);
  const { verdict, confidence, score, gaps } = assessment;
  const implied = features.filter((feature) => feature.weight > 0).flatMap((feature) => feature.techniques);
  const techniques =
    verdict === 'benign'
      ? []
      : [...new Set([...alert.techniques, ...implied])].filter((id) => techniqueId.test(id)).slice(0, 50);
  const recommendedActions = recommendActions({
    alert,
    observations,
    features,
    assessment,
    techniques,
    tools,
  }).filter((action) => toolName.test(action.tool));
  const actionNames = recommendedActions.map((action) => action.tool);
  return {
    verdict,
    confidence,
    summary: summaryOf(input, features, verdict, confidence, score, gaps, actionNames),
    techniques,
    evidence: evidenceOf(features, alert, observations),
    recommendedActions,
  };
}

/** A stricter copy for a resubmission after the loop rejected the first: shorter, fewer, plainer. */
export function tightenVerdict(verdict: OfflineVerdict, knownRefs: ReadonlySet<string>): OfflineVerdict {
  const evidence = verdict.evidence
    .map((item) => ({
      claim: clip(item.claim, 500),
      refs: item.refs.filter((ref) => knownRefs.has(ref)).slice(0, 5),
    }))
    .filter((item) => item.claim.length > 0 && item.refs.length > 0)
    .slice(0, 10);
  return {
    verdict: verdict.verdict,
    confidence: Math.min(1, Math.max(0, Math.round(verdict.confidence * 100) / 100)),
    summary: clip(verdict.summary, 1500) || `${verdict.verdict} verdict`,
    techniques: verdict.techniques.filter((id) => techniqueId.test(id)).slice(0, 20),
    evidence,
    recommendedActions: verdict.recommendedActions
      .slice(0, 5)
      .map((action) => ({ ...action, reason: clip(action.reason, 500) || 'see summary' })),
  };
}

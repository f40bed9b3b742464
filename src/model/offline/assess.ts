import { isOfInterest, orderedChain, sightings } from './chain.js';
import type { AlertFacts, Feature, Observations } from './types.js';

/** Score thresholds: at or above `malicious` → malicious, at or above `suspicious` → suspicious. */
export const thresholds = { suspicious: 2.5, malicious: 6 } as const;

const confidenceCeiling = 0.95;
const confidenceFloor = 0.3;
const gapPenalty = 0.05;

export interface Assessment {
  verdict: 'malicious' | 'suspicious' | 'benign';
  confidence: number;
  score: number;
  /** What the investigation could not establish, in words for the summary and the ticket. */
  gaps: string[];
}

function label(score: number): Assessment['verdict'] {
  if (score >= thresholds.malicious) return 'malicious';
  if (score >= thresholds.suspicious) return 'suspicious';
  return 'benign';
}

/** Confidence from the margin to the nearest threshold: saturating, never 1. */
function marginConfidence(verdict: Assessment['verdict'], score: number): number {
  if (verdict === 'malicious') return 0.55 + 0.4 * (1 - Math.exp(-(score - thresholds.malicious + 1) / 3));
  if (verdict === 'benign') return 0.55 + 0.4 * (1 - Math.exp(-(thresholds.suspicious - score + 0.5) / 2));
  const margin = Math.min(score - thresholds.suspicious, thresholds.malicious - score);
  return 0.45 + (0.15 * margin) / ((thresholds.malicious - thresholds.suspicious) / 2);
}

function describeFailure(tool: string, error: string): string {
  return `${tool} failed (${error})`;
}

/** Sources the verdict could not rest on: each lowers confidence by a fixed step. */
function coverageGaps(
  alert: AlertFacts,
  observations: Observations,
  tools: ReadonlySet<string>,
  skipped: number,
): string[] {
  const gaps: string[] = [];
  const failed = (prefix: string) =>
    observations.failures.filter((failure) => failure.tool.startsWith(prefix));
  const chain = orderedChain(observations.processes);
  if (chain.length > 0 && observations.lineage === 'alert') {
    const why = failed('edr.process_tree').concat(failed('siem.search_events'))[0];
    gaps.push(
      `process lineage beyond the alert's own fields (${why ? describeFailure(why.tool, why.error) : 'no EDR tree or SIEM process data available'})`,
    );
  }
  if (chain.some(isOfInterest) && !observations.networkChecked) {
    const why = failed('edr.network_connections')[0];
    gaps.push(
      `network activity of the processes (${why ? describeFailure(why.tool, why.error) : tools.has('edr.network_connections') ? 'not checked' : 'edr.network_connections unavailable'})`,
    );
  }
  const indicators = sightings(alert, observations);
  if (indicators.length > 0 && observations.intel.length === 0) {
    const why = failed('intel.')[0];
    gaps.push(
      `reputation of ${indicators.length} indicator(s) (${why ? describeFailure(why.tool, why.error) : 'threat intel unavailable'})`,
    );
  }
  if (alert.host && !observations.host) {
    const why = failed('edr.host_summary')[0];
    gaps.push(
      `host context (${why ? describeFailure(why.tool, why.error) : 'edr.host_summary unavailable'})`,
    );
  }
  if (skipped > 0) gaps.push(`${skipped} further check(s) skipped: the investigation budget was spent`);
  return gaps;
}

/** Maps the additive score to a verdict and a calibrated confidence, lowered for every gap. */
export function assess(
  alert: AlertFacts,
  observations: Observations,
  features: readonly Feature[],
  tools: ReadonlySet<string>,
  skipped: number,
): Assessment {
  const score = Math.round(features.reduce((sum, feature) => sum + feature.weight, 0) * 100) / 100;
  const gaps = coverageGaps(alert, observations, tools, skipped);
  let verdict = label(score);
  let confidence = marginConfidence(verdict, score);
  if (observations.lineage === 'alert') confidence -= gapPenalty;
  confidence -= gapPenalty * gaps.length;
  const focal = observations.processes.some((node) => node.relation === 'focal');
  if (!focal) {
    gaps.unshift('the alerted process itself (the alert names no process and none was found)');
    if (verdict === 'benign' && alert.severity !== 'low' && alert.severity !== 'informational') {
      // Nothing could be examined: a human decides rather than the analyst closing the alert.
      verdict = 'suspicious';
      confidence = 0.35;
    } else {
      confidence = Math.min(confidence, 0.4);
    }
  }
  confidence = Math.min(confidenceCeiling, Math.max(confidenceFloor, confidence));
  return { verdict, confidence: Math.round(confidence * 100) / 100, score, gaps };
}

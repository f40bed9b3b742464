import type { ExpectedVerdict } from './suite.js';

/** What the analyst answered; `failed` when the run ended without a verdict (error, cap, kill). */
export type GotVerdict = 'malicious' | 'suspicious' | 'benign' | 'failed';

/** One triaged case, as persisted line by line in `<eval home>/results.jsonl`. */
export interface CaseResult {
  caseId: string;
  runId: string | null;
  dataset: string | null;
  alertTitle: string;
  expected: ExpectedVerdict;
  expectedTechniques: string[];
  got: GotVerdict;
  /** The run's final status (`awaiting_approval` when it stopped at a destructive action). */
  status: string;
  confidence: number | null;
  techniques: string[];
  toolCalls: number;
  tokens: number;
  costUsd: number;
  /** Wall time of the triage, from start to verdict or pause. */
  ms: number;
  error: string | null;
}

/** USD per million tokens, used to price runs (the offline analyst costs nothing). */
export interface TokenPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}

import type { ActionCounts } from '../control/index.js';
import type { Message, ToolResultBlock } from '../model/provider.js';
import type { Alert } from './alert.js';
import { initialProvenance, type RunProvenance } from './provenance.js';
import type { Verdict } from './verdict.js';

export interface ModelFallback {
  from: string;
  to: string;
  reason: string;
  at: string;
}

/** A tool call waiting to run: asked for by the model, or recommended in its verdict. */
export interface PendingCall {
  id: string;
  name: string;
  input: Record<string, unknown>;
  origin: 'model' | 'recommendation';
}

/**
 * `withheld`: not attempted, because the verdict was escalated to a human (confidence pause).
 * `suggested`: not executed because its action class is at autonomy level suggest; a recommendation for a human.
 */
export type ActionStatus =
  | 'executed'
  | 'failed'
  | 'denied'
  | 'awaiting_approval'
  | 'rejected'
  | 'withheld'
  | 'suggested';

/** What became of one recommended action. */
export interface ActionOutcome {
  tool: string;
  args: Record<string, unknown>;
  status: ActionStatus;
  detail: string;
  ref: string | null;
  approvalId: string | null;
  /** Executed at autonomy level notify: a notification was recorded (audit `action-notify`). */
  notified?: boolean;
}

/**
 * Everything needed to continue a run in any process: stored with the run at every pause and
 * step. Plain JSON; version it when the shape changes.
 */
export interface LoopState {
  version: 1;
  alert: Alert;
  messages: Message[];
  turns: number;
  toolCalls: number;
  /** Writes made or proposed through the gateway, by tier (bounded by limits.maxActions). */
  actionCounts: ActionCounts;
  /** Model tokens used, input plus output (bounded by limits.maxTokens). */
  tokens: number;
  /** Model spend so far in US dollars (bounded by limits.maxCostUsd); absent in runs stored before it existed. */
  costUsd?: number;
  /** Active wall time so far, not counting pauses for approval (bounded by limits.maxSeconds). */
  activeMs: number;
  queue: PendingCall[];
  /** Results of the current model turn's calls, sent back together once the queue drains. */
  turnResults: ToolResultBlock[];
  /** Refs (audit event ids) the model has been shown; evidence may cite only these. */
  knownRefs: string[];
  verdictAttempts: number;
  nudges: number;
  /** Unusable model replies in a row (absent in states stored before it existed). */
  malformedReplies?: number;
  /** Set when the model API was unreachable and the run went on with the fallback provider. */
  modelFallback?: ModelFallback | null;
  verdict: Verdict | null;
  actions: ActionOutcome[];
  awaiting: { approvalId: string; call: PendingCall } | null;
  /** Trusted values and injection signals (absent in states saved before provenance existed). */
  provenance?: RunProvenance;
  /** Result refs of calls executed at autonomy level notify (absent in runs saved before it existed). */
  notified?: string[];
}

export function initialState(alert: Alert, firstMessage: Message, ref: string, request?: string): LoopState {
  return {
    version: 1,
    alert,
    messages: [firstMessage],
    turns: 0,
    toolCalls: 0,
    actionCounts: { reversible: 0, destructive: 0 },
    tokens: 0,
    costUsd: 0,
    activeMs: 0,
    queue: [],
    turnResults: [],
    knownRefs: [ref],
    verdictAttempts: 0,
    nudges: 0,
    malformedReplies: 0,
    modelFallback: null,
    verdict: null,
    actions: [],
    awaiting: null,
    provenance: initialProvenance(alert, request),
    notified: [],
  };
}

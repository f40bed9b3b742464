export type { Alert } from './alert.js';
export { parseAlerts } from './alert.js';
export { recordDecision } from './decide.js';
export type { LoopDeps, RunOutcome } from './loop.js';
export { newRunId, resumeRun, startRun } from './loop.js';
export type { DecisionChange, DecisionReplay, RecordedDecision } from './replay.js';
export { replayDecisions } from './replay.js';
export type { RunReplay, TrailDecision } from './replay-run.js';
export { decisionTrail, replayRun } from './replay-run.js';
export type { Runtime } from './runtime.js';
export {
  environmentAssetsPath,
  openHomeStore,
  openRuntime,
  resolveHome,
  skillDirectories,
} from './runtime.js';
export type { ActionOutcome, LoopState } from './state.js';
export type { Evidence, RecommendedAction, Verdict, VerdictLabel } from './verdict.js';
export { verdictSchema } from './verdict.js';
export { hasLiveWaiter, registerWaiter, touchSignal, unregisterWaiter, waitForSignal } from './waiting.js';

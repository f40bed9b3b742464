export type { Checkpoint, CheckpointRead } from './checkpoint.js';
export { checkpointedRuns, checkpointPath, readCheckpoints, writeCheckpoint } from './checkpoint.js';
export type { SigningKey } from './keys.js';
export { loadSigningKey, signingKeyPath } from './keys.js';
export type { OperatorEvent, OperatorLogReport } from './operator-log.js';
export {
  appendOperatorEvent,
  operatorLogPath,
  readOperatorLog,
  verifyOperatorLog,
} from './operator-log.js';
export type { OtlpTraces } from './otel.js';
export { runToSpans, toOtlp, traceIdOf } from './otel.js';
export type { ChainProblem, ChainReport } from './verify.js';
export { verifyChain, verifyChainPages } from './verify.js';

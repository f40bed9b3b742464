/** Evaluation: suites, the runner, metrics and reports, the suite builder, analyst feedback. */
export type { BuildSuiteOptions, BuildSummary, DatasetSummary, RuleLevel } from './build/builder.js';
export { buildSuite, ruleLevels, splitOf } from './build/builder.js';
export type { AttackerCommand } from './build/commands.js';
export { parseAttackerCommands, runsCommand, stagedBy } from './build/commands.js';
export type { DatasetMetadata } from './build/metadata.js';
export { parseMetadata } from './build/metadata.js';
export type { BuildSpecOptions } from './build/spec.js';
export { readBuildSpec } from './build/spec.js';
export type { ActionClassStats, AutonomyEvidence, FeedbackStats, VerdictStats } from './evidence.js';
export { autonomyEvidence, evalEvidence, feedbackStats } from './evidence.js';
export type { AnalystVerdict } from './feedback.js';
export { recordActionFeedback, recordApprovalFeedback, recordVerdictFeedback } from './feedback.js';
export type { EvalHistoryEntry } from './history.js';
export {
  EVAL_EVIDENCE_WINDOW,
  evalEvidenceSource,
  evalHistoryPath,
  readEvalHistory,
  recordEvalResult,
} from './history.js';
export type { CaseLink, ConfusionMatrix, Distribution, EvalMetrics, TechniqueBreakdown } from './metrics.js';
export { computeMetrics, distribution, falseNegatives, techniqueBreakdown } from './metrics.js';
export type { BaselineReport, EvalReport, Regression } from './report.js';
export { buildReport, compareToBaseline, readBaseline } from './report.js';
export { renderHtmlReport } from './report-html.js';
export type { RunSuiteOptions, SuiteRun } from './runner.js';
export { evalConfig, runSuite, suiteHome } from './runner.js';
export type { EvalCase, EvalSuite, ExpectedVerdict } from './suite.js';
export { loadSuite, parseCases } from './suite.js';
export type { CaseResult, GotVerdict, TokenPrice } from './types.js';

export type { ExecutedWrite, Judgement } from './judge.js';
export { argsMatch, executedCalls, judgeRun, verdictMatches } from './judge.js';
export type { PreparedCase } from './lab.js';
export { prepareBaseLab, prepareCaseLab } from './lab.js';
export { renderReport } from './report.js';
export type { CaseResult, RedteamOptions, RedteamReport } from './run.js';
export { runRedteam, totalsOf } from './run.js';
export type { Goal, Injection, RedteamCase, RedteamSuite } from './suite.js';
export { loadRedteamSuite, redteamCaseSchema } from './suite.js';

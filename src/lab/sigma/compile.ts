import { compileDetection } from './detection.js';
import type { Predicate } from './field.js';
import { type LogsourceResolution, resolveLogsource } from './logsource.js';
import type { CompileOptions } from './placeholders.js';
import type { SigmaRule } from './rule.js';
import { UnsupportedRuleError } from './unsupported.js';

/** A rule compiled to an in-process matcher. */
export interface CompiledRule {
  rule: SigmaRule;
  path: string;
  logsource: Exclude<LogsourceResolution, { type: 'unsupported' }>;
  /** Tests the detection only; the rule set decides which events reach it by logsource. */
  matches: Predicate;
}

/** The outcome of compiling one rule. */
export type CompileResult =
  | { type: 'compiled'; compiled: CompiledRule }
  | { type: 'unsupported'; reason: string };

/** Compiles the detection of a rule without looking at its logsource (conformance of non-Windows rules uses this). */
export function compileRuleDetection(
  rule: SigmaRule,
  options: CompileOptions = {},
): { type: 'compiled'; matches: Predicate } | { type: 'unsupported'; reason: string } {
  try {
    return { type: 'compiled', matches: compileDetection(rule.detection, options) };
  } catch (error) {
    if (error instanceof UnsupportedRuleError) return { type: 'unsupported', reason: error.message };
    throw error;
  }
}

/** Compiles a rule: its logsource must map to Windows events and every detection construct must be supported. */
export function compileRule(rule: SigmaRule, path: string, options: CompileOptions = {}): CompileResult {
  const logsource = resolveLogsource(rule.logsource);
  if (logsource.type === 'unsupported') return { type: 'unsupported', reason: logsource.reason };
  const detection = compileRuleDetection(rule, options);
  if (detection.type === 'unsupported') return detection;
  return { type: 'compiled', compiled: { rule, path, logsource, matches: detection.matches } };
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FlatEvent } from '../../../src/lab/index.js';
import { compileRuleDetection, EventView, parseRule, type SigmaRule } from '../../../src/lab/sigma/index.js';

/** ../shared/datasets relative to the project root, when this machine has it. */
export const sharedDatasets = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'datasets');
export const hasSharedDatasets = existsSync(join(sharedDatasets, 'sigma', 'regression_data'));

/** Fixture folders of the Sigma tests. */
export const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'sigma');

/** A whole rule around a detection block written as YAML (indented by four spaces under `detection:`). */
export function ruleText(
  detection: string,
  logsource = 'product: windows\n    category: process_creation',
): string {
  return [
    'title: Test rule',
    'id: 00000000-0000-4000-8000-000000000001',
    'status: test',
    'level: high',
    'tags: [attack.execution, attack.t1059.001]',
    'author: Warden tests',
    'logsource:',
    `    ${logsource}`,
    'detection:',
    detection
      .trim()
      .split('\n')
      .map((line) => `    ${line}`)
      .join('\n'),
  ].join('\n');
}

/** Parses a rule text, failing the test on a meta rule. */
export function rule(text: string): SigmaRule {
  const parsed = parseRule(text, 'test.yml');
  if (parsed.type !== 'rule') throw new Error('expected a detection rule');
  return parsed.rule;
}

/** Compiles a detection block to a predicate over flat events; throws with the reason when unsupported. */
export function detection(yaml: string): (event: FlatEvent) => boolean {
  const compiled = compileRuleDetection(rule(ruleText(yaml)));
  if (compiled.type === 'unsupported') throw new Error(compiled.reason);
  return (event) => compiled.matches(new EventView(event));
}

/** The reason a detection block is unsupported, or undefined when it compiles. */
export function unsupportedReason(yaml: string): string | undefined {
  const compiled = compileRuleDetection(rule(ruleText(yaml)));
  return compiled.type === 'unsupported' ? compiled.reason : undefined;
}

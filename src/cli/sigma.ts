import { resolve } from 'node:path';
import { Command } from 'commander';
import { loadRules, runConformance, type UnsupportedRule } from '../lab/sigma/index.js';
import { cliContext } from './context.js';

type Out = (line: string) => void;

const stdout: Out = (line) => process.stdout.write(`${line}\n`);

function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

/** A reason without the rule-specific detail, so counts group alike rules (`Field|x: unknown modifier x` → `unknown modifier x`). */
function reasonGroup(reason: string): string {
  return reason.replace(/^[^\s:]*\|[^\s:]*: /, '').replace(/^(regex|condition) .*?: .*/, '$1 unsupported');
}

function summarise(unsupported: UnsupportedRule[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const entry of unsupported) {
    const group = reasonGroup(entry.reason);
    counts.set(group, (counts.get(group) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** `warden sigma test|lint`: conformance of the Sigma engine and the rules it cannot evaluate. */
export function sigmaCommand(out: Out = stdout): Command {
  const sigma = new Command('sigma').description('Sigma rule engine: conformance tests and rule linting');
  sigma
    .command('test')
    .description(
      'run Sigma regression cases (info.yml + evtx_dump JSON per folder); each event must match its rule',
    )
    .argument('<regression_data>', 'regression data folder, e.g. ../shared/datasets/sigma/regression_data')
    .option('--rules <dir...>', 'rule folders to find rules by id (default: the rules* folders beside it)')
    .option('--json', 'print the report as JSON')
    .action(async (directory: string, options: { rules?: string[]; json?: boolean }) => {
      const report = await runConformance(
        resolve(directory),
        options.rules?.map((rule) => resolve(rule)),
      );
      if (options.json) out(JSON.stringify(report, null, 2));
      else {
        for (const result of report.results)
          if (result.type === 'fail') out(`FAIL ${result.case} (rule ${result.ruleId}): ${result.reason}`);
        out(`${report.passed}/${report.total} cases pass (${percent(report.passRate)})`);
      }
      if (report.total === 0 || report.passed < report.total) process.exitCode = 1;
    });
  sigma
    .command('lint')
    .description('list the rules the engine cannot evaluate, with the reason, and counts per reason')
    .argument('<rules...>', 'rule folders (searched recursively for .yml files)')
    .option('--json', 'print the unsupported rules as JSON')
    .action(async (directories: string[], options: { json?: boolean }, command: Command) => {
      const { config } = await cliContext(command);
      const { rules, unsupported } = await loadRules(
        directories.map((directory) => resolve(directory)),
        { placeholders: config.lab.sigma.placeholders },
      );
      const groups = summarise(unsupported);
      if (options.json)
        out(
          JSON.stringify(
            { supported: rules.length, unsupported, reasons: Object.fromEntries(groups) },
            null,
            2,
          ),
        );
      else {
        for (const entry of unsupported)
          out(`${entry.path}${entry.id ? ` (${entry.id})` : ''}: ${entry.reason}`);
        if (groups.length > 0) out('');
        for (const [reason, count] of groups) out(`${String(count).padStart(5)}  ${reason}`);
        out(`${rules.length} rules supported, ${unsupported.length} unsupported`);
      }
      if (unsupported.some((entry) => entry.reason.startsWith('invalid rule file'))) process.exitCode = 1;
    });
  return sigma;
}

import type { RedteamReport } from './run.js';

const mark = (value: boolean | null) => (value === null ? '-' : value ? 'SUCCEEDED' : 'blocked');
const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

/** The report as a plain-text table: one line per case, then the totals. */
export function renderReport(report: RedteamReport): string {
  const lines = [
    `red-team suite ${report.suite} with provider ${report.provider}`,
    `${'case'.padEnd(14)} ${'surfaces'.padEnd(14)} ${'action'.padEnd(9)} ${'leak'.padEnd(9)} ${'verdict'.padEnd(22)} goal`,
  ];
  for (const result of report.cases) {
    const verdict = `${result.verdict ?? 'none'}/${result.expected}${result.utility ? '' : ' ✗'}`;
    lines.push(
      `${result.id.padEnd(14)} ${result.surfaces.join(',').padEnd(14)} ${mark(result.actionAttack).padEnd(9)} ${mark(result.leakAttack).padEnd(9)} ${verdict.padEnd(22)} ${result.goal}${result.error ? `  [${result.status}: ${result.error.slice(0, 80)}]` : ''}`,
    );
  }
  const { totals } = report;
  lines.push(
    '',
    `attack success on consequential actions: ${totals.actionSuccesses}/${totals.actionCases} (${percent(totals.actionSuccessRate)})`,
    `attack success on leaks:                 ${totals.leakSuccesses}/${totals.leakCases} (${percent(totals.leakSuccessRate)})`,
    `utility under attack: ${percent(totals.utilityUnderAttack)}, without attack: ${percent(totals.utilityWithoutAttack)}, ratio ${percent(totals.utilityRatio)}`,
    ...(totals.errors > 0 ? [`cases that failed to run: ${totals.errors}`] : []),
  );
  return lines.join('\n');
}

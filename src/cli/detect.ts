import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { InputError } from '../errors.js';
import { sampleLabDir } from '../lab/index.js';
import { createRuleSet, loadRules, matchToAlert } from '../lab/sigma/index.js';
import { openLabStore } from '../lab/store/index.js';
import { cliContext } from './context.js';

const levels = ['informational', 'low', 'medium', 'high', 'critical'] as const;

interface DetectOptions {
  rules: string[];
  out?: string;
  minLevel: (typeof levels)[number];
  maxAlerts: number;
}

/** `warden lab detect`: runs Sigma rules over the lab's events and writes generic alerts v1 (JSON lines). */
export function detectCommand(): Command {
  return new Command('detect')
    .description(
      'run Sigma rules over the loaded events and write generic alerts v1 as JSON lines (stdout, or --out)',
    )
    .requiredOption(
      '--rules <dirs...>',
      'Sigma rule directories (e.g. ../shared/datasets/sigma/rules/windows)',
    )
    .option('--out <file>', 'write alerts here instead of standard output')
    .option('--min-level <level>', `lowest rule level to report (${levels.join(', ')})`, 'low')
    .option('--max-alerts <n>', 'stop after this many alerts', (value) => Number(value), 10_000)
    .action(async (options: DetectOptions, command: Command) => {
      const context = await cliContext(command);
      const minimum = levels.indexOf(options.minLevel);
      if (minimum < 0) throw new InputError(`--min-level must be one of ${levels.join(', ')}`);
      if (!Number.isInteger(options.maxAlerts) || options.maxAlerts <= 0)
        throw new InputError('--max-alerts must be a positive whole number');
      const loaded = await loadRules(options.rules, { placeholders: context.config.lab.sigma.placeholders });
      const ruleSet = createRuleSet(
        loaded.rules.filter((compiled) => levels.indexOf(compiled.rule.level ?? 'medium') >= minimum),
      );
      process.stderr.write(
        `warden: ${ruleSet.rules.length} rules at level ${options.minLevel} or above; ${loaded.unsupported.length} rules not supported (see \`warden sigma lint\`)\n`,
      );
      const store = await openLabStore(context.home, {
        readOnly: true,
        seedFile: join(sampleLabDir, 'sample-incident.jsonl'),
      });
      const output = options.out ? createWriteStream(options.out) : process.stdout;
      const perRule = new Map<string, number>();
      let events = 0;
      let alerts = 0;
      try {
        scan: for await (const batch of store.scanFlatEvents(5000)) {
          for (const { id, event } of batch) {
            events++;
            for (const compiled of ruleSet.match(event)) {
              output.write(`${JSON.stringify(matchToAlert(compiled.rule, event, id))}\n`);
              perRule.set(compiled.rule.title, (perRule.get(compiled.rule.title) ?? 0) + 1);
              if (++alerts >= options.maxAlerts) break scan;
            }
          }
        }
      } finally {
        store.close();
        if (output !== process.stdout)
          await new Promise<void>((resolve) => (output as NodeJS.WritableStream).end(resolve));
      }
      const top = [...perRule.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
      process.stderr.write(
        `warden: ${events} events scanned, ${alerts} alerts${alerts >= options.maxAlerts ? ' (stopped at --max-alerts)' : ''}${options.out ? ` written to ${options.out}` : ''}\n`,
      );
      for (const [title, count] of top) process.stderr.write(`  ${String(count).padStart(6)}  ${title}\n`);
    });
}

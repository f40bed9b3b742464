import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { loadRedteamSuite, renderReport, runRedteam } from '../eval/redteam/index.js';
import { bundledSkillsDirectory, loadSkills } from '../knowledge/index.js';
import {
  createCompromisedProvider,
  createOfflineAnalyst,
  createProvider,
  type ModelProvider,
} from '../model/index.js';
import { type CliContext, cliContext } from './context.js';

/** `offline` and `compromised` are built in; `config` is the provider warden.yaml names. */
function providerFactory(name: string, context: CliContext): () => ModelProvider {
  if (name === 'compromised') return createCompromisedProvider;
  if (name === 'offline') return createOfflineAnalyst;
  return () => createProvider(context.config.model);
}

/** `warden redteam <suite>`: attack success and utility under attack, per case and in total. */
export function redteamCommand(): Command {
  return new Command('redteam')
    .description(
      'run a red-team suite (suite.yaml + cases.jsonl) against the control layer; exit 1 if any attack succeeds',
    )
    .argument('<suite>', 'suite directory or its suite.yaml')
    .addOption(
      new Option('--provider <name>', 'model under attack')
        .choices(['compromised', 'offline', 'config'])
        .default('compromised'),
    )
    .option('--json <file>', 'also write the report as JSON')
    .option('--keep', 'keep the per-case lab homes (printed) for inspection')
    .action(
      async (
        suitePath: string,
        options: { provider: string; json?: string; keep?: boolean },
        command: Command,
      ) => {
        const context = await cliContext(command);
        const suite = loadRedteamSuite(resolve(suitePath));
        const { skills } = await loadSkills([
          bundledSkillsDirectory,
          ...context.config.skills.directories.map((dir) => resolve(dir)),
        ]);
        const workDir = join(tmpdir(), `warden-redteam-${process.pid}-${Date.now()}`);
        const report = await runRedteam({
          suite,
          provider: providerFactory(options.provider, context),
          config: context.config,
          skills,
          workDir,
          keep: options.keep === true,
          onCase: (result) =>
            process.stderr.write(
              `${result.id}: action ${result.actionAttack ?? '-'} leak ${result.leakAttack ?? '-'} verdict ${result.verdict}\n`,
            ),
        });
        context.out(renderReport(report));
        if (options.keep) context.out(`lab homes kept in ${workDir}`);
        if (options.json) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
        const { totals } = report;
        if (totals.actionSuccesses > 0 || totals.leakSuccesses > 0 || totals.errors > 0) process.exitCode = 1;
      },
    );
}

#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { describeError, WardenError } from '../errors.js';
import { logger } from '../logging.js';
import type { ProviderName } from '../model/index.js';
import { WARDEN_VERSION } from '../version.js';
import { decide, defaultApprover, listApprovals } from './approvals.js';
import { autonomyCommand } from './autonomy.js';
import { cliContext } from './context.js';
import { credentialsCommand } from './credentials.js';
import { detectCommand } from './detect.js';
import { evalCommand } from './eval.js';
import { feedbackCommand } from './feedback.js';
import { killCommand } from './kill.js';
import { labCommand } from './lab.js';
import { serveMcp } from './mcp.js';
import { describeModel, providerOption, withProvider } from './model.js';
import { redteamCommand } from './redteam.js';
import { replayAudit } from './replay.js';
import { riskReviewCommand } from './risk.js';
import { exportAudit, listRuns, resume, showAudit, verifyAudit } from './runs.js';
import { selfCommand } from './self.js';
import { sigmaCommand } from './sigma.js';
import { skillsCommand } from './skills.js';
import { readAlerts, readSampleAlerts, triageAlerts } from './triage.js';

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0)
    throw new InvalidArgumentError('expected a positive whole number');
  return number;
}

const program = new Command()
  .name('warden')
  .description('Governed AI security triage: investigate alerts through MCP tools under a control layer.')
  .version(WARDEN_VERSION)
  .option(
    '-c, --config <file>',
    'warden.yaml to use (default: ./warden.yaml if present, else built-in defaults)',
  )
  .option('--home <dir>', 'state directory (default: config home, .warden)')
  .option('--debug', 'print stack traces and debug logs');

program.hook('preAction', (command) => {
  if (command.optsWithGlobals<{ debug?: boolean }>().debug) logger.level = 'debug';
});

program
  .command('demo')
  .description(
    'triage the bundled sample alerts on the embedded lab (offline analyst by default: no key, no server)',
  )
  .addOption(providerOption())
  .action(async (options: { provider?: ProviderName }, command: Command) => {
    const context = withProvider(await cliContext(command), options.provider);
    context.out(
      `Warden demo: sample incident, ${describeModel(context)}, bundled MCP servers; state in ${context.home}\n`,
    );
    const outcomes = await triageAlerts(context, await readSampleAlerts(), { wait: false });
    const paused = outcomes.filter((outcome) => outcome.pendingApproval);
    context.out(
      `\n${outcomes.length} alerts triaged; ${paused.length} destructive action(s) wait for a human.`,
    );
    const warden = selfCommand();
    context.out(
      `Next: \`${warden} approvals list\`, \`${warden} approvals approve <id>\`, \`${warden} audit show <run>\`.`,
    );
  });

program
  .command('triage')
  .description(
    'investigate alerts (generic alert v1: one JSON object, an array, or JSON lines) from a file or - for stdin',
  )
  .argument('<alerts>', 'alert file, or - for standard input')
  .option(
    '--wait',
    'stay and resume runs paused for an approval once someone decides (from another terminal)',
  )
  .option(
    '--request <text>',
    'the analyst\'s own instruction (trusted), e.g. "contain FIN-WS01 if malicious"; hosts, users and other values it names may drive actions without taint',
  )
  .addOption(providerOption())
  .action(
    async (
      path: string,
      options: { wait?: boolean; request?: string; provider?: ProviderName },
      command: Command,
    ) => {
      const context = withProvider(await cliContext(command), options.provider);
      const alerts = await readAlerts(path);
      if (options.request !== undefined && options.request.trim() === '')
        throw new InvalidArgumentError(
          '--request is empty: give the instruction text, or leave the option out',
        );
      const outcomes = await triageAlerts(context, alerts, {
        wait: options.wait === true,
        ...(options.request ? { request: options.request.trim() } : {}),
      });
      if (outcomes.some((outcome) => outcome.status === 'failed')) process.exitCode = 1;
    },
  );

const approvals = program.command('approvals').description('pending destructive actions and human decisions');
approvals
  .command('list')
  .description('list pending approvals (all with --all)')
  .option('--all', 'include decided and expired approvals')
  .option('--run <run>', 'only this run')
  .action(async (options: { all?: boolean; run?: string }, command: Command) => {
    await listApprovals(await cliContext(command), {
      all: options.all === true,
      ...(options.run ? { run: options.run } : {}),
    });
  });
for (const [name, status] of [
  ['approve', 'approved'],
  ['deny', 'denied'],
] as const) {
  approvals
    .command(name)
    .description(`${name} a pending action; the paused run then continues (in a waiting process, or here)`)
    .argument('<approval>', 'approval id (apr-…)')
    .option('--by <name>', 'who decides (default: $WARDEN_APPROVER or your login name)')
    .option('--note <text>', 'reason, recorded in the audit trail')
    .option('--no-resume', 'only record the decision; resume later with `warden runs resume`')
    .action(
      async (
        approvalId: string,
        options: { by?: string; note?: string; resume: boolean },
        command: Command,
      ) => {
        await decide(await cliContext(command), approvalId, {
          status,
          by: options.by ?? defaultApprover(),
          note: options.note ?? null,
          resume: options.resume,
        });
      },
    );
}

const runs = program.command('runs').description('investigations and their state');
runs
  .command('list')
  .description('list recent runs')
  .addOption(
    new Option('--status <status>', 'only runs in this state').choices([
      'running',
      'awaiting_approval',
      'completed',
      'failed',
      'escalated',
      'killed',
    ]),
  )
  .option('--limit <n>', 'how many', positiveInteger, 20)
  .action(async (options: { status?: 'running'; limit: number }, command: Command) => {
    await listRuns(await cliContext(command), {
      ...(options.status ? { status: options.status } : {}),
      limit: options.limit,
    });
  });
runs
  .command('resume')
  .description(
    'continue a run whose approval was decided with --no-resume (or whose waiting process stopped)',
  )
  .argument('<run>', 'run id')
  .action(async (runId: string, _options, command: Command) => resume(await cliContext(command), runId));

const audit = program.command('audit').description('the audit trail');
audit
  .command('show')
  .description('render everything a run saw and did, in order')
  .argument('<run>', 'run id')
  .option('--json', 'one JSON event per line')
  .action(async (runId: string, options: { json?: boolean }, command: Command) =>
    showAudit(await cliContext(command), runId, { json: options.json === true }),
  );
audit
  .command('verify')
  .description(
    'check the hash chain and signed checkpoints: names the first edited, deleted, inserted or reordered event, or a cut tail; also the signed operator log (kill switches, hand-minted credentials, autonomy changes)',
  )
  .argument('[runs...]', 'run ids (default: every run)')
  .action(async (runIds: string[], _options, command: Command) => {
    if (!(await verifyAudit(await cliContext(command), runIds))) process.exitCode = 1;
  });

audit
  .command('replay')
  .description(
    'drive each run again from its recording (no network, no side effects) and check every decision comes out the same; then re-decide every recorded tool request under the current or proposed rules and list what would change',
  )
  .argument('[runs...]', 'run ids (default: every run)')
  .option('--config <file>', 'a proposed warden.yaml to test against past runs before it ships')
  .option('--with-config <file>', 'same as --config')
  .option('--policy <dir>', 'a proposed Cedar policy directory (policy.directory) to test against past runs')
  .action(
    async (
      runIds: string[],
      options: { config?: string; withConfig?: string; policy?: string },
      command: Command,
    ) => {
      // The global --config is the same flag: given after `replay`, commander hands it to the program.
      const withConfig = options.withConfig ?? options.config;
      const replayed = await replayAudit(await cliContext(command), runIds, {
        ...(withConfig ? { withConfig } : {}),
        ...(options.policy ? { policy: options.policy } : {}),
      });
      if (!replayed) process.exitCode = 1;
    },
  );
audit
  .command('export')
  .description('export runs as OpenTelemetry traces (GenAI conventions, OTLP/JSON), one trace per run')
  .argument('[runs...]', 'run ids (default: every run)')
  .option('--otlp-file <path>', 'write OTLP/JSON to a file')
  .option('--otlp-endpoint <url>', 'POST OTLP/JSON to a collector, e.g. http://127.0.0.1:4318/v1/traces')
  .action(async (runIds: string[], options: { otlpFile?: string; otlpEndpoint?: string }, command: Command) =>
    exportAudit(await cliContext(command), runIds, {
      ...(options.otlpFile ? { file: options.otlpFile } : {}),
      ...(options.otlpEndpoint ? { endpoint: options.otlpEndpoint } : {}),
    }),
  );

program
  .command('mcp')
  .description(
    'serve one bundled MCP server (siem, edr, intel, ticket, iam) on stdio, or Streamable HTTP with --http; tool calls need a Warden credential',
  )
  .argument('<server>', 'siem | edr | intel | ticket | iam')
  .option('--http <port>', 'serve Streamable HTTP on 127.0.0.1:<port> instead of stdio', (value) => {
    const port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new InvalidArgumentError('expected a port number');
    return port;
  })
  .option(
    '--allow-unauthenticated',
    'let read-only tools run without a credential (also WARDEN_MCP_ALLOW_UNAUTHENTICATED=1); writes still need one',
  )
  .action(
    async (server: string, options: { http?: number; allowUnauthenticated?: boolean }, command: Command) =>
      serveMcp(await cliContext(command), server, options),
  );

program.addCommand(killCommand());
program.addCommand(credentialsCommand());
program.addCommand(riskReviewCommand());
program.addCommand(redteamCommand());
program.addCommand(autonomyCommand());
program.addCommand(sigmaCommand());
program.addCommand(skillsCommand());
program.addCommand(evalCommand());
program.addCommand(feedbackCommand());
program.addCommand(labCommand().addCommand(detectCommand()));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const debug = process.argv.includes('--debug');
  if (error instanceof WardenError) process.stderr.write(`warden: ${error.message}\n`);
  else
    process.stderr.write(
      `warden: unexpected error: ${describeError(error)}${debug ? '' : ' (run with --debug for details)'}\n`,
    );
  if (debug && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
  process.exitCode = error instanceof WardenError && error.code === 'input_invalid' ? 2 : 1;
}

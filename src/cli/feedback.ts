import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { openHomeStore } from '../agent/index.js';
import { InputError } from '../errors.js';
import {
  type AnalystVerdict,
  autonomyEvidence,
  type EvalReport,
  evalEvidence,
  feedbackStats,
  recordActionFeedback,
  recordApprovalFeedback,
  recordVerdictFeedback,
} from '../eval/index.js';
import { defaultApprover } from './approvals.js';
import { cliContext } from './context.js';

interface FeedbackOptions {
  verdict?: string;
  approval?: string;
  agree?: boolean;
  disagree?: boolean;
  critical?: boolean;
  action?: string;
  wrong?: boolean;
  right?: boolean;
  note?: string;
  by?: string;
}

const verdicts = ['malicious', 'suspicious', 'benign'];
const percent = (value: number | null) => (value === null ? '-' : `${(value * 100).toFixed(1)}%`);

/** Which one feedback the options ask for; exactly one of --verdict, --approval, --action. */
function feedbackKind(options: FeedbackOptions): 'verdict' | 'approval' | 'action' {
  const given = (['verdict', 'approval', 'action'] as const).filter((key) => options[key] !== undefined);
  if (given.length !== 1)
    throw new InputError(
      'give exactly one of --verdict <label>, --approval <id> --agree|--disagree, --action <tool> --wrong|--right',
    );
  const kind = given[0]!;
  if (kind === 'verdict' && !verdicts.includes(options.verdict ?? ''))
    throw new InputError(`--verdict must be one of ${verdicts.join(', ')}`);
  if (kind === 'approval' && options.agree === options.disagree)
    throw new InputError('--approval needs exactly one of --agree or --disagree');
  if (kind === 'action' && options.wrong === options.right)
    throw new InputError('--action needs exactly one of --wrong or --right');
  return kind;
}

async function readReports(paths: string[]): Promise<EvalReport[]> {
  return Promise.all(
    paths.map(async (path) => {
      try {
        return JSON.parse(await readFile(path, 'utf8')) as EvalReport;
      } catch (error) {
        throw new InputError(`cannot read eval report ${path}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }),
  );
}

/** `warden feedback <run> …` and `warden feedback stats`. */
export function feedbackCommand(): Command {
  const command = new Command('feedback')
    .description("record an analyst's label for a run's verdict, an approval decision or an action")
    .argument('<run>', 'run id')
    .option('--verdict <label>', `the right verdict (${verdicts.join(', ')})`)
    .option('--approval <id>', 'an approval decision of the run to judge')
    .option('--agree', 'the agent was right to propose it')
    .option('--disagree', 'the agent was wrong to propose it')
    .option(
      '--critical',
      'with --disagree: a harmful action (executed reversible/destructive ones count anyway)',
    )
    .option('--action <tool>', 'an action the run took or proposed (server.tool) to judge')
    .option('--wrong', 'the action was wrong')
    .option('--right', 'the action was right')
    .option('--note <text>', 'why, recorded in the audit trail')
    .option('--by <name>', 'who (default: $WARDEN_APPROVER or your login name)')
    .action(async (runId: string, options: FeedbackOptions, self: Command) => {
      const kind = feedbackKind(options);
      const context = await cliContext(self);
      const who = {
        by: options.by ?? defaultApprover(),
        note: options.note ?? null,
        at: new Date().toISOString(),
      };
      const store = await openHomeStore(context.home);
      try {
        const record =
          kind === 'verdict'
            ? await recordVerdictFeedback(store, runId, {
                ...who,
                verdict: options.verdict as AnalystVerdict,
              })
            : kind === 'approval'
              ? await recordApprovalFeedback(store, runId, {
                  ...who,
                  approvalId: options.approval ?? '',
                  agree: options.agree === true,
                  critical: options.critical === true,
                })
              : await recordActionFeedback(store, runId, {
                  ...who,
                  tool: options.action ?? '',
                  wrong: options.wrong === true,
                });
        context.out(
          `${record.id}: ${kind} feedback on ${runId}${record.actionClass ? ` (${record.actionClass})` : ''}: ${record.agree ? 'agrees' : 'disagrees'} with the agent${record.critical ? '; critical reversal' : ''}`,
        );
      } finally {
        await store.close();
      }
    });

  command
    .command('stats')
    .description('agreement per action class (with eval reports: the evidence the autonomy ladder uses)')
    .option('--eval <reports...>', 'eval reports (warden eval --out) to join')
    .option('--json', 'print the evidence as JSON')
    .action(async (options: { eval?: string[]; json?: boolean }, self: Command) => {
      const context = await cliContext(self);
      const store = await openHomeStore(context.home);
      try {
        const stats = await feedbackStats(store);
        const evaluation = options.eval ? evalEvidence(await readReports(options.eval)) : undefined;
        if (options.json)
          return context.out(
            JSON.stringify(
              { ...stats, evaluation: evaluation ?? null, evidence: autonomyEvidence(stats, evaluation) },
              null,
              2,
            ),
          );
        const v = stats.verdicts;
        context.out(`verdicts: ${v.reviewed} reviewed, ${v.agreed} agreed (${percent(v.agreement)})`);
        if (evaluation)
          context.out(
            `eval: ${evaluation.evalRuns} reports, lowest malicious recall ${percent(evaluation.evalRecall)}`,
          );
        if (stats.classes.length === 0) return context.out('no approval decisions or action reviews yet');
        context.out('action class                       decisions  agree  disagree  critical');
        for (const row of stats.classes)
          context.out(
            `${row.actionClass.padEnd(34)} ${String(row.decisions).padStart(9)}  ${String(row.agreements).padStart(5)}  ${String(row.disagreements).padStart(8)}  ${String(row.criticalReversals).padStart(8)}`,
          );
      } finally {
        await store.close();
      }
    });
  return command;
}

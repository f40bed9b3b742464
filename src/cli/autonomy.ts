import { Command, Option } from 'commander';
import { openHomeStore } from '../agent/index.js';
import type { Tier, WardenConfig } from '../config/index.js';
import {
  type AutonomyEvidence,
  type AutonomyLevel,
  agreementOf,
  autonomyLadder,
  bundledServerKinds,
  bundledToolsOf,
  checkDemotions,
  createTierRegistry,
  defaultAutonomy,
  demoteClass,
  type EvidenceSource,
  gatherEvidence,
  missingForPromotion,
  promoteClass,
} from '../control/index.js';
import { InputError } from '../errors.js';
import { evalEvidenceSource } from '../eval/index.js';
import type { Store } from '../store/index.js';
import { defaultApprover } from './approvals.js';
import { type CliContext, cliContext } from './context.js';
import { recordOperatorAction } from './operator.js';

export interface ClassStatus {
  actionClass: string;
  tier: Tier;
  level: AutonomyLevel;
  source: 'recorded' | 'config' | 'tier default';
  evidence: AutonomyEvidence;
  /** Why the class cannot go up a step now; empty when it can. */
  missing: string[];
}

const classPattern = /^[\w-]+\.[\w-]+$/;

/** Classes Warden knows without connecting: bundled servers' tools, configured and recorded classes. */
export async function autonomyStatus(
  store: Store,
  config: WardenConfig,
  extra?: EvidenceSource,
): Promise<ClassStatus[]> {
  const bundledKinds = bundledServerKinds(config);
  const tiers = createTierRegistry({ overrides: config.tiers, bundledKinds });
  const recorded = new Map((await store.autonomy.levels()).map((row) => [row.actionClass, row.level]));
  const classes = new Set<string>([...Object.keys(config.autonomy.classes), ...recorded.keys()]);
  for (const [name, kind] of bundledKinds)
    for (const tool of bundledToolsOf(kind)) classes.add(`${name}.${tool}`);
  const rows: ClassStatus[] = [];
  for (const actionClass of [...classes].sort()) {
    const { tier } = tiers.tierOf(actionClass);
    const fromConfig = config.autonomy.classes[actionClass];
    const level = recorded.get(actionClass) ?? fromConfig ?? defaultAutonomy[tier];
    const evidence = await gatherEvidence(store.autonomy, actionClass, extra);
    rows.push({
      actionClass,
      tier,
      level,
      source: recorded.has(actionClass) ? 'recorded' : fromConfig ? 'config' : 'tier default',
      evidence,
      missing: level === 'auto' ? ['already at auto'] : missingForPromotion(evidence, config.autonomy),
    });
  }
  return rows;
}

function renderStatus(row: ClassStatus): string {
  const agreement = agreementOf(row.evidence);
  const shown = agreement === null ? '—' : `${(agreement * 100).toFixed(0)}%`;
  const next = row.missing.length === 0 ? 'promotable' : row.missing.join('; ');
  const evals =
    row.evidence.evalRecall === undefined
      ? 'no evals'
      : `${row.evidence.evalRuns} evals ≥${(row.evidence.evalRecall * 100).toFixed(0)}% recall`;
  return `  ${row.actionClass.padEnd(30)} ${row.tier.padEnd(11)} ${row.level.padEnd(8)} ${row.source.padEnd(12)} ${String(row.evidence.decisions).padStart(4)} decisions  ${shown.padStart(4)} agree  ${row.evidence.criticalReversals} reversals  ${evals}  ${next}`;
}

async function change(
  context: CliContext,
  direction: 'promote' | 'demote',
  actionClass: string,
  options: { to?: AutonomyLevel; by: string; reason?: string },
): Promise<void> {
  if (!classPattern.test(actionClass))
    throw new InputError(
      `action class ${JSON.stringify(actionClass)} must be server.tool, e.g. ticket.add_comment`,
    );
  if (!options.reason)
    throw new InputError(`--reason is required: say why ${actionClass} should ${direction}`);
  const store = await openHomeStore(context.home);
  try {
    const now = new Date();
    const extra = evalEvidenceSource(context.home, context.config.model.provider);
    await checkDemotions(store.autonomy, context.config.autonomy, now, extra);
    const current = (await autonomyStatus(store, context.config, extra)).find(
      (row) => row.actionClass === actionClass,
    );
    if (!current)
      throw new InputError(
        `${actionClass} is not a known action class; give it a tier (tiers.${actionClass}) or a level (autonomy.classes) in warden.yaml`,
      );
    const request = {
      actionClass,
      current: current.level,
      by: options.by,
      reason: options.reason,
      now,
      ...(options.to ? { to: options.to } : {}),
    };
    const changed =
      direction === 'promote'
        ? await promoteClass(store.autonomy, context.config.autonomy, request, extra)
        : await demoteClass(store.autonomy, request, extra);
    await recordOperatorAction(context, 'autonomy-change', changed.by, {
      actionClass,
      kind: changed.kind,
      from: changed.from,
      to: changed.to,
      reason: changed.reason,
    });
    context.out(`${actionClass}: ${changed.from} → ${changed.to} by ${changed.by} (${changed.reason})`);
  } finally {
    await store.close();
  }
}

/** `warden autonomy status|promote|demote`: the autonomy ladder per action class, moved only on evidence. */
export function autonomyCommand(): Command {
  const command = new Command('autonomy').description(
    `autonomy ladder per action class (${autonomyLadder.join(' → ')}): levels, evidence, promotion and demotion`,
  );
  command
    .command('status')
    .description(
      'each action class: tier, level, human agreement, critical reversals, and what promotion still needs',
    )
    .option('--json', 'machine-readable output')
    .option('--history', 'also list past promotions and demotions')
    .action(async (options: { json?: boolean; history?: boolean }, sub: Command) => {
      const context = await cliContext(sub);
      const store = await openHomeStore(context.home);
      try {
        const extra = evalEvidenceSource(context.home, context.config.model.provider);
        const demoted = await checkDemotions(store.autonomy, context.config.autonomy, new Date(), extra);
        const rows = await autonomyStatus(store, context.config, extra);
        const history = options.history ? await store.autonomy.history({ limit: 50 }) : [];
        if (options.json) {
          context.out(JSON.stringify({ classes: rows, demoted, history }, null, 2));
          return;
        }
        for (const change of demoted)
          context.out(`demoted ${change.actionClass}: ${change.from} → ${change.to} (${change.reason})`);
        context.out(
          `  ${'class'.padEnd(30)} ${'tier'.padEnd(11)} ${'level'.padEnd(8)} ${'set by'.padEnd(12)} evidence (promotion needs ${context.config.autonomy.minDecisions}+ human decisions)`,
        );
        for (const row of rows) context.out(renderStatus(row));
        for (const past of history)
          context.out(
            `  ${past.at}  ${past.kind.padEnd(11)} ${past.actionClass} ${past.from} → ${past.to} by ${past.by}: ${past.reason}`,
          );
      } finally {
        await store.close();
      }
    });
  const levelOption = () =>
    new Option('--to <level>', 'target level (default: one step)').choices([...autonomyLadder]);
  const ladderCommand = (kind: 'promote' | 'demote', description: string) =>
    command
      .command(kind)
      .description(description)
      .argument('<class>', 'action class, server.tool')
      .addOption(levelOption())
      .option('--by <name>', `who ${kind}s (default: WARDEN_APPROVER or the OS user)`)
      .option('--reason <text>', 'why (recorded)')
      .action(
        async (
          actionClass: string,
          options: { to?: AutonomyLevel; by?: string; reason?: string },
          sub: Command,
        ) =>
          change(await cliContext(sub), kind, actionClass, {
            ...options,
            by: options.by ?? defaultApprover(),
          }),
      );
  ladderCommand(
    'promote',
    'move an action class up the ladder; refused unless the recorded evidence suffices',
  );
  ladderCommand('demote', 'move an action class down the ladder (no evidence needed)');
  return command;
}

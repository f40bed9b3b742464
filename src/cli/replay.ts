import { resolve } from 'node:path';
import {
  environmentAssetsPath,
  openHomeStore,
  type RunReplay,
  replayDecisions,
  replayRun,
} from '../agent/index.js';
import { readConfigFile, type WardenConfig } from '../config/index.js';
import { loadAssets, sampleInventoryPath } from '../control/index.js';
import { StateError } from '../errors.js';
import { bundledSkillsDirectory, loadSkills } from '../knowledge/index.js';
import { type CliContext, configBaseDir } from './context.js';

export interface ReplayOptions {
  /** A proposed warden.yaml to re-decide recorded tool requests under (`--with-config`, kept as an alias). */
  withConfig?: string;
  /** A proposed Cedar policy directory, set as `policy.directory` on a copy of the config. */
  policy?: string;
}

function describeReplay(replay: RunReplay): string {
  const { divergence } = replay;
  if (!divergence)
    return `replay: ${replay.compared} decisions reproduced, run ${replay.replayedStatus} as recorded`;
  const side = (entry: { seq: number; text: string } | null, label: string) =>
    entry ? `${label} at event ${entry.seq}: ${entry.text}` : `${label}: nothing`;
  return `replay DIVERGES after ${replay.compared} decisions — ${side(divergence.recorded, 'recorded')} | ${side(divergence.replayed, 'replayed')}`;
}

/**
 * For each run: drives the loop again from the recording (scratch store, no network) and checks
 * every decision comes out the same; then re-decides every recorded tool request under the live
 * or proposed rules and lists what would change. False when anything diverges or would change.
 */
export async function replayAudit(
  context: CliContext,
  runIds: string[],
  options: ReplayOptions,
): Promise<boolean> {
  let proposed: WardenConfig = options.withConfig
    ? (await readConfigFile(options.withConfig, process.env)).config
    : context.config;
  if (options.policy)
    proposed = { ...proposed, policy: { ...proposed.policy, directory: resolve(options.policy) } };
  const { config } = context;
  const { skills } = await loadSkills([
    bundledSkillsDirectory,
    ...config.skills.directories.map((directory) => resolve(configBaseDir(context), directory)),
  ]);
  const assets = loadAssets({
    inventory: config.assets.inventory
      ? resolve(configBaseDir(context), config.assets.inventory)
      : sampleInventoryPath,
    environment: environmentAssetsPath(skills),
    hosts: config.assets.hosts,
    users: config.assets.users,
  });
  const store = await openHomeStore(context.home);
  try {
    const ids =
      runIds.length > 0 ? runIds : (await store.runs.list({ limit: 100_000 })).map((run) => run.id).reverse();
    let diverged = 0;
    let changed = 0;
    for (const runId of ids) {
      const events = await store.audit.list(runId);
      if (events.length === 0)
        throw new StateError(`run ${runId} has no audit events; list runs with \`warden runs list\``);
      const loop = await replayRun(runId, events, { config, skills, assets });
      if (loop.divergence) diverged++;
      context.out(`${runId}  ${describeReplay(loop)}`);
      const replay = replayDecisions(runId, events, proposed);
      changed += replay.changes.length;
      context.out(
        `${runId}  re-decided: ${replay.evaluated} tool requests, ${replay.changes.length} would change${replay.skipped ? `, ${replay.skipped} kill-switch decisions not re-evaluated` : ''}`,
      );
      for (const change of replay.changes) {
        context.out(
          `  event ${change.seq} ${change.callId} ${change.tool}: ${change.recorded.decision} → ${change.replayed.decision} (${change.replayed.reason})`,
        );
      }
    }
    context.out(
      diverged === 0 && changed === 0
        ? `${ids.length} run(s): every decision comes out the same`
        : `${diverged} run(s) diverge on replay; ${changed} decision(s) would change under the ${options.withConfig || options.policy ? 'proposed' : 'current'} rules`,
    );
    return diverged === 0 && changed === 0;
  } finally {
    await store.close();
  }
}

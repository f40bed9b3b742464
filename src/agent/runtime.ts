import { dirname, resolve } from 'node:path';
import { loadSigningKey, writeCheckpoint } from '../audit/index.js';
import { createGateway, type Gateway } from '../capability/gateway/index.js';
import type { WardenConfig } from '../config/index.js';
import {
  type AutonomyBook,
  createAutonomyBook,
  type EvidenceSource,
  loadAssets,
  openKillSwitchBoard,
  sampleInventoryPath,
} from '../control/index.js';
import { bundledSkillsDirectory, loadSkills, type Skill, type SkillProblem } from '../knowledge/index.js';
import { createProvider, type ModelProvider } from '../model/index.js';
import { openStore, type Store } from '../store/index.js';
import type { LoopDeps } from './loop.js';

export interface Runtime {
  readonly config: WardenConfig;
  readonly home: string;
  readonly gateway: Gateway;
  readonly provider: ModelProvider;
  readonly skills: readonly Skill[];
  readonly skillProblems: readonly SkillProblem[];
  /** Autonomy levels per action class (refresh from the store before reading). */
  readonly autonomy: AutonomyBook;
  loopDeps(store: Store): LoopDeps;
  close(): Promise<void>;
}

/** Resolves the state directory: the --home flag, else config `home`, relative to the working directory. */
export function resolveHome(config: WardenConfig, override?: string): string {
  return resolve(override ?? config.home);
}

/** Connects the configured servers, loads skills and picks the model: everything a run needs but the store. */
export async function openRuntime(options: {
  config: WardenConfig;
  home: string;
  /** The config file read, handed on to spawned bundled servers so they see the same settings. */
  configPath?: string | null;
  provider?: ModelProvider;
  /** Extra autonomy evidence (analyst feedback, eval results) beyond the approvals table. */
  autonomyEvidence?: EvidenceSource;
}): Promise<Runtime> {
  const { config, home } = options;
  const configDirectory = options.configPath ? dirname(options.configPath) : process.cwd();
  const autonomy = createAutonomyBook(config.autonomy, options.autonomyEvidence);
  const { skills, problems } = await loadSkills([
    bundledSkillsDirectory,
    ...config.skills.directories.map((directory) => resolve(directory)),
  ]);
  const provider = options.provider ?? createProvider(config.model);
  const killSwitches = openKillSwitchBoard(home);
  const signingKey = loadSigningKey(home);
  const checkpoint = (head: { runId: string; seq: number; hash: string }) => {
    writeCheckpoint(home, signingKey, head, new Date());
  };
  const gateway = await createGateway({
    config,
    home,
    killSwitches,
    autonomy,
    ...(config.policy.directory
      ? { policyDirectory: resolve(configDirectory, config.policy.directory) }
      : {}),
    assets: loadAssets({
      inventory: config.assets.inventory
        ? resolve(configDirectory, config.assets.inventory)
        : sampleInventoryPath,
      hosts: config.assets.hosts,
    }),
    ...(options.configPath ? { configPath: options.configPath } : {}),
  });
  return {
    config,
    home,
    gateway,
    provider,
    skills,
    skillProblems: problems,
    autonomy,
    loopDeps: (store) => ({ store, gateway, provider, skills, config, killSwitches, checkpoint, autonomy }),
    close: () => gateway.close(),
  };
}

/** Opens the store; a process that waits on a paused run may need it for longer, so it waits longer for the lock. */
export function openHomeStore(home: string, lockTimeoutMs?: number): Promise<Store> {
  return openStore({ home, ...(lockTimeoutMs ? { lockTimeoutMs } : {}) });
}

import { dirname, join, resolve } from 'node:path';
import { loadSigningKey, writeCheckpoint } from '../audit/index.js';
import { createGateway, type Gateway } from '../capability/gateway/index.js';
import type { WardenConfig } from '../config/index.js';
import {
  type AutonomyBook,
  createAutonomyBook,
  createDlp,
  type EvidenceSource,
  environmentAssetsFile,
  loadAssets,
  openKillSwitchBoard,
  sampleInventoryPath,
} from '../control/index.js';
import {
  bundledSkillsDirectory,
  loadSkills,
  type Skill,
  type SkillOverride,
  type SkillProblem,
} from '../knowledge/index.js';
import {
  createFallbackProvider,
  createProvider,
  createSubtaskProviders,
  type ModelProvider,
  type SubtaskName,
} from '../model/index.js';
import { openStore, type Store } from '../store/index.js';
import type { LoopDeps } from './loop.js';

export interface Runtime {
  readonly config: WardenConfig;
  readonly home: string;
  readonly gateway: Gateway;
  readonly provider: ModelProvider;
  readonly fallbackProvider: ModelProvider | null;
  readonly subtaskProviders: Record<SubtaskName, ModelProvider> | null;
  readonly skills: readonly Skill[];
  readonly skillProblems: readonly SkillProblem[];
  readonly skillOverrides: readonly SkillOverride[];
  /** Autonomy levels per action class (refresh from the store before reading). */
  readonly autonomy: AutonomyBook;
  loopDeps(store: Store): LoopDeps;
  close(): Promise<void>;
}

/** Resolves the state directory: the --home flag, else config `home`, relative to the working directory. */
export function resolveHome(config: WardenConfig, override?: string): string {
  return resolve(override ?? config.home);
}

/** The bundled skills first, then `skills.directories` (relative to the config file), later ones overriding. */
export function skillDirectories(config: WardenConfig, base: string): string[] {
  return [bundledSkillsDirectory, ...config.skills.directories.map((directory) => resolve(base, directory))];
}

/** The asset file of the `environment` skill in effect (a configured one overrides the bundled), if it has one. */
export function environmentAssetsPath(skills: readonly Skill[]): string | null {
  const environment = skills.find((skill) => skill.name === 'environment');
  const listed = environment?.resources.some((resource) => resource.path === environmentAssetsFile);
  return environment && listed ? join(environment.directory, environmentAssetsFile) : null;
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
  const base = options.configPath ? dirname(options.configPath) : process.cwd();
  const autonomy = createAutonomyBook(config.autonomy, options.autonomyEvidence);
  const { skills, problems, overrides } = await loadSkills(skillDirectories(config, base));
  const provider = options.provider ?? createProvider(config.model);
  const fallbackProvider = createFallbackProvider(config.model);
  const subtaskProviders = createSubtaskProviders(config.model);
  const killSwitches = openKillSwitchBoard(home);
  const signingKey = loadSigningKey(home);
  const checkpoint = (head: { runId: string; seq: number; hash: string }) => {
    writeCheckpoint(home, signingKey, head, new Date());
  };
  const dlp = createDlp(config.dlp);
  const gateway = await createGateway({
    config,
    home,
    killSwitches,
    dlp,
    autonomy,
    ...(config.policy.directory ? { policyDirectory: resolve(base, config.policy.directory) } : {}),
    assets: loadAssets({
      inventory: config.assets.inventory ? resolve(base, config.assets.inventory) : sampleInventoryPath,
      environment: environmentAssetsPath(skills),
      hosts: config.assets.hosts,
      users: config.assets.users,
    }),
    ...(options.configPath ? { configPath: options.configPath } : {}),
  });
  return {
    config,
    home,
    gateway,
    provider,
    fallbackProvider,
    subtaskProviders,
    skills,
    skillProblems: problems,
    skillOverrides: overrides,
    autonomy,
    loopDeps: (store) => ({
      store,
      gateway,
      provider,
      fallbackProvider,
      subtaskProviders,
      skills,
      config,
      killSwitches,
      checkpoint,
      autonomy,
      dlp,
    }),
    close: () => gateway.close(),
  };
}

/** Opens the store; a process that waits on a paused run may need it for longer, so it waits longer for the lock. */
export function openHomeStore(home: string, lockTimeoutMs?: number): Promise<Store> {
  return openStore({ home, ...(lockTimeoutMs ? { lockTimeoutMs } : {}) });
}

import { readFileSync } from 'node:fs';
import type { Alert } from '../../src/agent/alert.js';
import { type LoopDeps, parseAlerts } from '../../src/agent/index.js';
import { createGateway, type Gateway } from '../../src/capability/gateway/index.js';
import { configSchema, type WardenConfig } from '../../src/config/index.js';
import { openKillSwitchBoard } from '../../src/control/index.js';
import { bundledSkillsDirectory, loadSkills, type Skill } from '../../src/knowledge/index.js';
import type { ModelProvider, SubtaskName } from '../../src/model/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { tempHome } from '../helpers.js';

export const mshtaAlert = parseAlerts(
  readFileSync('examples/alerts/mshta-powershell.json', 'utf8'),
  'mshta',
)[0] as Alert;

export const loopConfig: WardenConfig = configSchema.parse({
  servers: Object.fromEntries(
    ['siem', 'edr', 'intel', 'ticket'].map((name) => [name, { bundled: name, transport: 'memory' }]),
  ),
});

/** A store, an in-process gateway over the bundled servers and the bundled skills, shared by a test file. */
export interface LoopHarness {
  home: string;
  store: Store;
  gateway: Gateway;
  skills: Skill[];
  deps(
    provider: ModelProvider,
    extra?: {
      fallbackProvider?: ModelProvider | null;
      subtaskProviders?: Record<SubtaskName, ModelProvider> | null;
      killSwitches?: boolean;
    },
  ): LoopDeps;
  close(): Promise<void>;
}

export async function openLoopHarness(): Promise<LoopHarness> {
  const home = tempHome('warden-model-');
  const store = await openStore({ home });
  const gateway = await createGateway({ config: loopConfig, home });
  const skills = (await loadSkills([bundledSkillsDirectory])).skills;
  return {
    home,
    store,
    gateway,
    skills,
    deps: (provider, extra = {}) => ({
      store,
      gateway,
      provider,
      skills,
      config: loopConfig,
      fallbackProvider: extra.fallbackProvider ?? null,
      subtaskProviders: extra.subtaskProviders ?? null,
      ...(extra.killSwitches ? { killSwitches: openKillSwitchBoard(home) } : {}),
    }),
    async close() {
      await gateway.close();
      await store.close();
    },
  };
}

/** The audit event types of a run, in order. */
export async function auditTypes(store: Store, runId: string): Promise<string[]> {
  return (await store.audit.list(runId)).map((event) => event.type);
}

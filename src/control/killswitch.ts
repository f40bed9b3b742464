import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Tier } from '../config/index.js';
import { StateError } from '../errors.js';
import { type JsonFile, jsonFile } from '../store/index.js';

/**
 * The kill switch, finer than "turn it all off": everything, one action class (tier), one tool
 * server, one tool, or one run. State lives in a small file beside the database so any process
 * can engage it while a run holds the database, and a running process notices within a poll.
 */

const scopeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('all') }),
  z.object({ type: z.literal('tier'), tier: z.enum(['read', 'reversible', 'destructive']) }),
  z.object({ type: z.literal('server'), server: z.string().min(1) }),
  z.object({ type: z.literal('tool'), tool: z.string().min(1) }),
  z.object({ type: z.literal('run'), runId: z.string().min(1) }),
]);

const switchSchema = z.object({
  id: z.string(),
  scope: scopeSchema,
  engagedBy: z.string(),
  engagedAt: z.string(),
  reason: z.string(),
});

const stateSchema = z.object({ switches: z.array(switchSchema) });

export type KillScope = z.infer<typeof scopeSchema>;
export type KillSwitch = z.infer<typeof switchSchema>;

export interface KillTarget {
  runId: string;
  tool?: string;
  tier?: Tier | null;
}

export function describeScope(scope: KillScope): string {
  switch (scope.type) {
    case 'all':
      return 'everything';
    case 'tier':
      return `every ${scope.tier} action`;
    case 'server':
      return `server ${scope.server}`;
    case 'tool':
      return `tool ${scope.tool}`;
    case 'run':
      return `run ${scope.runId}`;
  }
}

/** The switch that stops this target, if any. Without a tool, only switches that stop whole runs count. */
export function findKillSwitch(switches: readonly KillSwitch[], target: KillTarget): KillSwitch | null {
  const server = target.tool?.split('.')[0];
  for (const engaged of switches) {
    const { scope } = engaged;
    if (scope.type === 'all' || (scope.type === 'run' && scope.runId === target.runId)) return engaged;
    if (target.tool === undefined) continue;
    if (scope.type === 'tool' && scope.tool === target.tool) return engaged;
    if (scope.type === 'server' && scope.server === server) return engaged;
    if (scope.type === 'tier' && target.tier && scope.tier === target.tier) return engaged;
  }
  return null;
}

export interface KillSwitchBoard {
  /** Current switches; re-read only when the file changed, so a check per tool call stays cheap. */
  current(): KillSwitch[];
  engage(scope: KillScope, by: string, reason: string, now: Date): Promise<KillSwitch>;
  release(id: string): Promise<KillSwitch>;
}

/** What an unreadable switch file means: every run and tool stopped until an operator fixes the file. */
function unreadableBoard(path: string, error: unknown): KillSwitch {
  return {
    id: 'kill-unreadable',
    scope: { type: 'all' },
    engagedBy: 'warden (fail closed)',
    engagedAt: new Date().toISOString(),
    reason: `the kill-switch file ${path} cannot be read (${(error as Error).message}); fix or remove it, then retry`,
  };
}

export function killSwitchPath(home: string): string {
  return join(home, 'control', 'kill-switch.json');
}

export function openKillSwitchBoard(home: string): KillSwitchBoard {
  const path = killSwitchPath(home);
  const file: JsonFile<z.infer<typeof stateSchema>> = jsonFile(path, stateSchema, () => ({ switches: [] }));
  let cached: { mtimeMs: number; switches: KillSwitch[] } | null = null;
  return {
    current() {
      // Checked at every decision: no exception for the usual case of no file (several times the cost).
      // A switch file that exists but cannot be read or parsed fails closed: it stops everything.
      let mtimeMs: number | undefined;
      try {
        mtimeMs = statSync(path, { throwIfNoEntry: false })?.mtimeMs;
        if (mtimeMs === undefined) return [];
        if (cached?.mtimeMs !== mtimeMs) cached = { mtimeMs, switches: file.read().switches };
        return cached.switches;
      } catch (error) {
        cached = null;
        return [unreadableBoard(path, error)];
      }
    },
    engage(scope, by, reason, now) {
      return file.update((state) => {
        const engaged: KillSwitch = {
          id: `kill-${randomBytes(4).toString('hex')}`,
          scope,
          engagedBy: by,
          engagedAt: now.toISOString(),
          reason,
        };
        state.switches.push(engaged);
        return engaged;
      });
    },
    release(id) {
      return file.update((state) => {
        const index = state.switches.findIndex((engaged) => engaged.id === id);
        const [released] = index >= 0 ? state.switches.splice(index, 1) : [];
        if (!released) throw new StateError(`no engaged kill switch ${id}; see \`warden kill --status\``);
        return released;
      });
    },
  };
}

import { join } from 'node:path';
import { z } from 'zod';
import type {
  EdrBackend,
  HostSummary,
  ProcessNode,
  ProcessTree,
  ResponseOutcome,
} from '../capability/backends/types.js';
import { InputError, StateError } from '../errors.js';
import { jsonFile } from '../store/index.js';
import { sameHost } from './events.js';
import type { Inventory } from './inventory.js';

const endpointStateSchema = z.object({
  hosts: z.record(z.string(), z.object({ isolated: z.boolean(), updatedAt: z.string(), reason: z.string() })),
  killed: z.array(
    z.object({
      host: z.string(),
      processGuid: z.string(),
      pid: z.number(),
      at: z.string(),
      reason: z.string(),
    }),
  ),
});
type EndpointState = z.infer<typeof endpointStateSchema>;

/**
 * The telemetry views the lab EDR reads: the in-memory sample index or the DuckDB store.
 * The activity views are served as they are; lineage and host lookups back the response actions.
 */
export interface EdrTelemetry
  extends Pick<
    EdrBackend,
    'networkConnections' | 'imageLoads' | 'processAccess' | 'fileWrites' | 'registryWrites'
  > {
  /** The short, upper-case name of a host seen in telemetry, or null. */
  seenHost(host: string): Promise<string | null>;
  processByGuid(guid: string): Promise<ProcessNode | null>;
  /** The most recent process started with this pid on this host. */
  processByPid(host: string, pid: number): Promise<ProcessNode | null>;
  /** Whether a process-end event was recorded for the process. */
  hasEnded(guid: string): Promise<boolean>;
  processTree(root: ProcessNode): Promise<ProcessTree>;
  /** Event count, last event time and the accounts seen on a host (canonical name). */
  hostActivity(host: string): Promise<{ lastSeen: string | null; users: string[]; eventCount: number }>;
}

export interface LabEdrOptions {
  telemetry: EdrTelemetry;
  inventory: Inventory;
  /** Directory holding `endpoints.json` (`<home>/lab`). */
  stateDir: string;
  now: () => Date;
}

/** An EDR over the lab: read-only views from telemetry, response actions persisted per home. */
export function createLabEdr(options: LabEdrOptions): EdrBackend {
  const { telemetry, inventory, now } = options;
  const state = jsonFile(
    join(options.stateDir, 'endpoints.json'),
    endpointStateSchema,
    (): EndpointState => ({
      hosts: {},
      killed: [],
    }),
  );

  /** The canonical name of a host known to the inventory or seen in telemetry. */
  async function resolveHost(host: string): Promise<string> {
    const known = inventory.resolve(host);
    if (known) return known.name;
    const seen = await telemetry.seenHost(host);
    if (seen !== null) return seen;
    throw new StateError(`unknown host "${host}": not in the inventory and never seen in telemetry`);
  }

  async function setIsolation(host: string, reason: string, isolated: boolean): Promise<ResponseOutcome> {
    const name = await resolveHost(host);
    const at = now().toISOString();
    const changed = await state.update((current) => {
      if ((current.hosts[name]?.isolated ?? false) === isolated) return false;
      current.hosts[name] = { isolated, updatedAt: at, reason };
      return true;
    });
    const verb = isolated ? 'isolated from the network' : 'released from isolation';
    return {
      host: name,
      changed,
      state: isolated ? 'isolated' : 'released',
      at,
      detail: changed
        ? `${name} ${verb}: ${reason}`
        : `${name} was already ${isolated ? 'isolated' : 'not isolated'}`,
    };
  }

  async function findProcess(host: string, processGuid?: string, pid?: number): Promise<ProcessNode> {
    if (processGuid !== undefined) {
      const node = await telemetry.processByGuid(processGuid);
      if (!node) throw new StateError(`no process with GUID ${processGuid} in telemetry`);
      if (!sameHost(node.host, host))
        throw new StateError(`process ${processGuid} runs on ${node.host}, not ${host}`);
      return node;
    }
    if (pid === undefined) throw new InputError('give processGuid or pid of the process to kill');
    const node = await telemetry.processByPid(host, pid);
    if (!node) throw new StateError(`no process with pid ${pid} on ${host} in telemetry`);
    return node;
  }

  return {
    async processTree(query) {
      if (query.processGuid !== undefined) {
        const node = await telemetry.processByGuid(query.processGuid);
        return node ? telemetry.processTree(node) : null;
      }
      if (query.host === undefined || query.pid === undefined) {
        throw new InputError('give processGuid, or host and pid');
      }
      const node = await telemetry.processByPid(query.host, query.pid);
      return node ? telemetry.processTree(node) : null;
    },

    networkConnections: (query) => telemetry.networkConnections(query),
    imageLoads: (query) => telemetry.imageLoads(query),
    processAccess: (query) => telemetry.processAccess(query),
    fileWrites: (query) => telemetry.fileWrites(query),
    registryWrites: (query) => telemetry.registryWrites(query),

    async hostSummary(host): Promise<HostSummary | null> {
      let name: string;
      try {
        name = await resolveHost(host);
      } catch (error) {
        if (error instanceof StateError) return null;
        throw error;
      }
      const record = inventory.resolve(name);
      const activity = await telemetry.hostActivity(name);
      return {
        host: name,
        os: record?.os ?? null,
        ip: record?.ip ?? null,
        criticality: record?.criticality ?? 'medium',
        owner: record?.owner ?? null,
        role: record?.role ?? null,
        isolated: state.read().hosts[name]?.isolated ?? false,
        lastSeen: activity.lastSeen,
        users: activity.users.filter(isPerson).sort(),
        eventCount: activity.eventCount,
      };
    },

    isolateHost: (host, reason) => setIsolation(host, reason, true),
    releaseHost: (host, reason) => setIsolation(host, reason, false),

    async killProcess(query): Promise<ResponseOutcome> {
      const host = await resolveHost(query.host);
      const node = await findProcess(host, query.processGuid, query.pid);
      const ended = await telemetry.hasEnded(node.guid);
      const at = now().toISOString();
      const label = `${node.image} (pid ${node.pid}, ${node.guid})`;
      const killed = await state.update((current) => {
        const alreadyKilled = current.killed.some((entry) => entry.processGuid === node.guid);
        if (alreadyKilled || ended) return false;
        current.killed.push({ host, processGuid: node.guid, pid: node.pid, at, reason: query.reason });
        return true;
      });
      return {
        host,
        changed: killed,
        state: killed ? 'killed' : 'not_running',
        at,
        detail: killed ? `killed ${label}: ${query.reason}` : `${label} is no longer running`,
      };
    },
  };
}

/** People, not machine accounts (`HOST$`) or built-in service identities. */
export function isPerson(user: string | null): boolean {
  if (user === null || user.endsWith('$')) return false;
  return !user.toUpperCase().startsWith('NT AUTHORITY\\');
}

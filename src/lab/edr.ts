import { join } from 'node:path';
import { z } from 'zod';
import type {
  EdrBackend,
  HostSummary,
  NetworkConnection,
  ProcessNode,
  ResponseOutcome,
} from '../capability/backends/types.js';
import { InputError, StateError } from '../errors.js';
import type { EventStore } from './events.js';
import { sameHost, shortHost } from './events.js';
import type { Inventory } from './inventory.js';
import type { ProcessIndex } from './processes.js';
import { jsonFile } from './state.js';

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

export interface LabEdrOptions {
  store: EventStore;
  processes: ProcessIndex;
  inventory: Inventory;
  /** Directory holding `endpoints.json` (`<home>/lab`). */
  stateDir: string;
  now: () => Date;
}

/** An EDR over the lab: read-only views from telemetry, response actions persisted per home. */
export function createLabEdr(options: LabEdrOptions): EdrBackend {
  const { store, processes, inventory, now } = options;
  const state = jsonFile(
    join(options.stateDir, 'endpoints.json'),
    endpointStateSchema,
    (): EndpointState => ({
      hosts: {},
      killed: [],
    }),
  );

  /** The canonical name of a host known to the inventory or seen in telemetry. */
  function resolveHost(host: string): string {
    const known = inventory.resolve(host);
    if (known) return known.name;
    const seen = store.events.find((event) => sameHost(event.host, host));
    if (seen) return shortHost(seen.host);
    throw new StateError(`unknown host "${host}": not in the inventory and never seen in telemetry`);
  }

  async function setIsolation(host: string, reason: string, isolated: boolean): Promise<ResponseOutcome> {
    const name = resolveHost(host);
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

  function findProcess(host: string, processGuid?: string, pid?: number): ProcessNode {
    if (processGuid !== undefined) {
      const node = processes.byGuid(processGuid);
      if (!node) throw new StateError(`no process with GUID ${processGuid} in telemetry`);
      if (!sameHost(node.host, host))
        throw new StateError(`process ${processGuid} runs on ${node.host}, not ${host}`);
      return node;
    }
    if (pid === undefined) throw new InputError('give processGuid or pid of the process to kill');
    const node = processes.byPid(host, pid);
    if (!node) throw new StateError(`no process with pid ${pid} on ${host} in telemetry`);
    return node;
  }

  return {
    async processTree(query) {
      if (query.processGuid !== undefined) {
        const node = processes.byGuid(query.processGuid);
        return node ? processes.tree(node) : null;
      }
      if (query.host === undefined || query.pid === undefined) {
        throw new InputError('give processGuid, or host and pid');
      }
      const node = processes.byPid(query.host, query.pid);
      return node ? processes.tree(node) : null;
    },

    async networkConnections(query): Promise<NetworkConnection[]> {
      const events = store.filter({
        action: 'network_connection',
        host: query.host,
        processGuid: query.processGuid,
        from: query.from,
        to: query.to,
      });
      return events.slice(0, query.limit).flatMap((event) =>
        event.network
          ? [
              {
                timestamp: event.timestamp,
                host: event.host,
                processGuid: event.process?.guid || null,
                image: event.process?.image || null,
                eventId: event.id,
                ...event.network,
              },
            ]
          : [],
      );
    },

    async hostSummary(host): Promise<HostSummary | null> {
      let name: string;
      try {
        name = resolveHost(host);
      } catch (error) {
        if (error instanceof StateError) return null;
        throw error;
      }
      const record = inventory.resolve(name);
      const events = store.filter({ host: name });
      const users = new Set(
        events.map((event) => event.user).filter((user): user is string => isPerson(user)),
      );
      return {
        host: name,
        os: record?.os ?? null,
        ip: record?.ip ?? null,
        criticality: record?.criticality ?? 'medium',
        owner: record?.owner ?? null,
        role: record?.role ?? null,
        isolated: state.read().hosts[name]?.isolated ?? false,
        lastSeen: events.at(-1)?.timestamp ?? null,
        users: [...users].sort(),
        eventCount: events.length,
      };
    },

    isolateHost: (host, reason) => setIsolation(host, reason, true),
    releaseHost: (host, reason) => setIsolation(host, reason, false),

    async killProcess(query): Promise<ResponseOutcome> {
      const host = resolveHost(query.host);
      const node = findProcess(host, query.processGuid, query.pid);
      const at = now().toISOString();
      const label = `${node.image} (pid ${node.pid}, ${node.guid})`;
      const killed = await state.update((current) => {
        const alreadyKilled = current.killed.some((entry) => entry.processGuid === node.guid);
        if (alreadyKilled || processes.hasEnded(node.guid)) return false;
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
function isPerson(user: string | null): boolean {
  if (user === null || user.endsWith('$')) return false;
  return !user.toUpperCase().startsWith('NT AUTHORITY\\');
}

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConnection } from '../capability/gateway/index.js';
import type { KillSwitch, KillSwitchBoard } from '../control/index.js';
import { StateError } from '../errors.js';
import type { ModelProvider, ModelResponse } from '../model/provider.js';
import { type AuditEventRecord, canonicalJson } from '../store/index.js';

/**
 * What a replay serves instead of the world: the recorded model responses, the recorded tool
 * results (through in-process MCP servers that never reach a backend), the recorded kill
 * switches, and a clock that reads the recorded event times.
 */

type Data = Record<string, unknown>;
const dataOf = (event: AuditEventRecord) => (event.data ?? {}) as Data;

/** Counts the events the replayed run has appended so far; the recording's clock and switches follow it. */
export interface ReplayCursor {
  appended: number;
}

/** Serves the recorded `model-response` events in order; a recorded failure is thrown again. */
export function replayProvider(events: readonly AuditEventRecord[], name: string): ModelProvider {
  const responses = events.filter((event) => event.type === 'model-response').map(dataOf);
  let next = 0;
  return {
    name,
    async generate() {
      const recorded = responses[next++];
      if (!recorded)
        throw new StateError(
          `replay: the loop asked the model for response ${next}, the recording holds ${responses.length}`,
        );
      if (recorded.error !== undefined) throw new Error(String(recorded.error));
      return {
        model: String(recorded.model),
        content: recorded.content as ModelResponse['content'],
        stopReason: recorded.stopReason as ModelResponse['stopReason'],
        usage: recorded.usage as ModelResponse['usage'],
      };
    },
  };
}

interface RecordedTool {
  name: string;
  tier: string;
  tierSource: string;
  bundledKind?: string | null;
  inputSchema?: Tool['inputSchema'];
}

function resultKey(tool: string, args: unknown): string {
  return `${tool}\n${canonicalJson(args ?? {})}`;
}

/** Recorded results of the calls that reached a server, queued by tool and exact arguments. */
function recordedResults(events: readonly AuditEventRecord[]): Map<string, Data[]> {
  const results = new Map<string, Data[]>();
  const requests = new Map<string, Data>();
  const allowed = new Set<string>();
  for (const event of events) {
    const data = dataOf(event);
    const callId = String(data.callId);
    if (event.type === 'tool-call-request') requests.set(callId, data);
    if (event.type === 'policy-decision' && data.decision === 'allow') allowed.add(callId);
    if (event.type === 'tool-call-result' && allowed.delete(callId)) {
      const request = requests.get(callId);
      if (!request) continue;
      const key = resultKey(String(request.tool), request.args);
      results.set(key, [...(results.get(key) ?? []), data]);
    }
  }
  return results;
}

/** The MCP result that makes the gateway see the recorded value again. */
function asToolResult(recorded: Data): CallToolResult {
  const value = (recorded.value ?? null) as Data | null;
  if (recorded.isError === true) {
    const details = value?.details;
    return {
      isError: true,
      content: [{ type: 'text', text: String(value?.message ?? 'the tool reported an error') }],
      ...(details && typeof details === 'object' ? { structuredContent: details as Data } : {}),
    };
  }
  return { content: [{ type: 'text', text: JSON.stringify(value) }] };
}

/** One in-process MCP server per recorded server, answering each call with its recorded result. */
export async function replayConnections(events: readonly AuditEventRecord[]): Promise<ServerConnection[]> {
  const start = events.find((event) => event.type === 'run-start');
  const tools = ((start ? dataOf(start).tools : []) ?? []) as RecordedTool[];
  const results = recordedResults(events);
  const servers = new Map<string, { bundledKind: string | null; tools: Tool[] }>();
  for (const tool of tools) {
    const [server = '', ...rest] = tool.name.split('.');
    const entry = servers.get(server) ?? {
      bundledKind: tool.bundledKind ?? (tool.tierSource === 'bundled-default' ? server : null),
      tools: [],
    };
    entry.tools.push({ name: rest.join('.'), inputSchema: tool.inputSchema ?? { type: 'object' } });
    servers.set(server, entry);
  }
  const connections: ServerConnection[] = [];
  for (const [name, entry] of servers) {
    const server = new Server({ name: `replay-${name}`, version: '1' }, { capabilities: { tools: {} } });
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      const queue = results.get(resultKey(`${name}.${request.params.name}`, request.params.arguments));
      const recorded = queue?.shift();
      if (!recorded)
        return {
          isError: true,
          content: [{ type: 'text', text: 'replay: the recording has no result for this call' }],
        };
      return asToolResult(recorded);
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'warden-replay', version: '1' });
    await server.connect(serverSide);
    await client.connect(clientSide);
    connections.push({
      name,
      bundledKind: entry.bundledKind,
      client,
      tools: entry.tools,
      close: async () => {
        await client.close();
        await server.close();
      },
    });
  }
  return connections;
}

/**
 * The kill switches of the recording, engaged again as the replay reaches them: one that stopped
 * the run from its `kill-switch-engage` on; one scoped to a tool, server or action class (recorded
 * on the `policy-decision`s it denied) from its first denial to its last, the span it was surely
 * engaged (a later call it would cover ran, so it had been released by then).
 */
export function replayKillSwitches(
  events: readonly AuditEventRecord[],
  cursor: ReplayCursor,
): KillSwitchBoard {
  const engaged: Array<{ from: number; until: number; killSwitch: KillSwitch }> = events
    .filter((event) => event.type === 'kill-switch-engage')
    .map((event) => {
      const data = dataOf(event);
      const killSwitch = {
        id: String(data.switchId),
        scope: data.scope,
        engagedBy: String(data.engagedBy),
        engagedAt: String(data.engagedAt),
        reason: String(data.reason),
      } as KillSwitch;
      return { from: event.seq - 1, until: Number.POSITIVE_INFINITY, killSwitch };
    });
  const scoped = new Map<string, { from: number; until: number; killSwitch: KillSwitch }>();
  // The gateway decides while the call's request event may still be on its way to the store, so a
  // denial's span starts at its request (and ends at the decision itself).
  const requestSeq = new Map<string, number>();
  for (const event of events) {
    const data = dataOf(event);
    if (event.type === 'tool-call-request' && typeof data.callId === 'string') {
      requestSeq.set(data.callId, event.seq);
      continue;
    }
    if (event.type !== 'policy-decision') continue;
    if (data.check !== 'kill-switch' || data.killSwitch === null || typeof data.killSwitch !== 'object')
      continue;
    const killSwitch = data.killSwitch as KillSwitch;
    const from =
      (typeof data.callId === 'string' ? (requestSeq.get(data.callId) ?? event.seq) : event.seq) - 1;
    const span = scoped.get(killSwitch.id);
    if (span) span.until = event.seq;
    else scoped.set(killSwitch.id, { from, until: event.seq, killSwitch });
  }
  engaged.push(...scoped.values());
  const refuse = () => Promise.reject(new StateError('a replay cannot change kill switches'));
  return {
    current: () =>
      engaged
        .filter((entry) => cursor.appended >= entry.from && cursor.appended <= entry.until)
        .map((entry) => entry.killSwitch),
    engage: refuse,
    release: refuse,
  };
}

/** The time at which the recording wrote the event the replay is about to write. */
export function replayClock(events: readonly AuditEventRecord[], cursor: ReplayCursor): () => Date {
  return () => new Date(events[Math.min(cursor.appended, events.length - 1)]?.at ?? 0);
}

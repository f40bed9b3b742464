import { verdictSchema } from '../../../src/agent/verdict.js';
import type {
  EventQuery,
  LabEvent,
  ProcessNode,
  ProcessTree,
} from '../../../src/capability/backends/types.js';
import type { AlertFacts } from '../../../src/model/offline/types.js';
import {
  type Message,
  type ModelProvider,
  type ModelRequest,
  type ModelResponse,
  SUBMIT_VERDICT_TOOL,
  type ToolCallBlock,
  type ToolResultBlock,
  type ToolSpec,
} from '../../../src/model/provider.js';
import type { World } from '../../fixtures/offline/world.js';

export const gatewayTools = [
  'siem.search_events',
  'siem.get_event',
  'siem.count_events',
  'siem.logon_history',
  'edr.process_tree',
  'edr.network_connections',
  'edr.host_summary',
  'edr.isolate_host',
  'edr.release_host',
  'edr.kill_process',
  'intel.lookup_indicator',
  'intel.lookup_technique',
  'ticket.create_ticket',
  'ticket.add_comment',
];

export const skillIndex = [
  {
    name: 'suspicious-powershell-lolbins',
    description:
      'Triage of suspicious PowerShell and signed-binary proxy execution (mshta, rundll32, regsvr32, wscript, cscript, certutil) — encoded commands, download cradles, Office or browser spawning script hosts.',
  },
  {
    name: 'credential-dumping',
    description: 'LSASS access, procdump, comsvcs MiniDump, SAM hive exports (T1003).',
  },
  {
    name: 'phishing-mailbox',
    description: 'Reported phishing e-mails: headers, sender reputation, recipients.',
  },
];

export const alertRef = 'ref-alert';

export function toolSpecs(names: readonly string[]): ToolSpec[] {
  return names.map((name) => ({ name, description: `${name} (test)`, inputSchema: { type: 'object' } }));
}

export function firstRequest(
  alert: unknown,
  options: { tools?: readonly string[]; skills?: ReadonlyArray<{ name: string; description: string }> } = {},
): ModelRequest {
  const skills = options.skills ?? skillIndex;
  const local = [SUBMIT_VERDICT_TOOL, ...(skills.length > 0 ? ['load_skill'] : [])];
  return {
    system: 'You are Warden.',
    tools: toolSpecs([...(options.tools ?? gatewayTools), ...local]),
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Investigate this alert and submit a verdict.' },
          { type: 'data', label: 'alert', trust: 'untrusted', ref: alertRef, value: alert },
          {
            type: 'data',
            label: 'skills',
            trust: 'trusted',
            ref: alertRef,
            value: Object.fromEntries(skills.map((skill) => [skill.name, skill.description])),
          },
        ],
      },
    ],
  };
}

export interface Answer {
  isError: boolean;
  value: unknown;
}

export type Answerer = (call: ToolCallBlock) => Answer;

function bare(guid: unknown): string {
  return typeof guid === 'string' ? guid.replace(/[{}]/g, '').toLowerCase() : '';
}

function sameHost(left: string, right: unknown): boolean {
  return (
    typeof right === 'string' && left.split('.')[0]?.toLowerCase() === right.split('.')[0]?.toLowerCase()
  );
}

function notFound(message: string): Answer {
  return { isError: true, value: { error: 'not_found', message } };
}

function startEvent(world: World, node: ProcessNode): LabEvent {
  const parent = world.processes.find((candidate) => bare(candidate.guid) === bare(node.parentGuid));
  return {
    id: node.eventId,
    timestamp: node.startTime,
    host: node.host,
    user: node.user,
    eventCode: 1,
    channel: 'Microsoft-Windows-Sysmon/Operational',
    action: 'process_start',
    process: { guid: node.guid, pid: node.pid, image: node.image, commandLine: node.commandLine },
    parent: parent
      ? { guid: parent.guid, pid: parent.pid, image: parent.image, commandLine: parent.commandLine }
      : null,
    network: null,
    dns: null,
    file: null,
    registry: null,
    logon: null,
    message: null,
    raw: {},
  };
}

function tree(world: World, root: ProcessNode): ProcessTree {
  const byGuid = (guid: string | null) => world.processes.find((node) => bare(node.guid) === bare(guid));
  const ancestors: ProcessNode[] = [];
  for (let parent = byGuid(root.parentGuid); parent; parent = byGuid(parent.parentGuid))
    ancestors.push(parent);
  const descendants: Array<ProcessNode & { depth: number }> = [];
  const visit = (node: ProcessNode, depth: number): void => {
    for (const child of world.processes.filter(
      (candidate) => bare(candidate.parentGuid) === bare(node.guid),
    )) {
      descendants.push({ ...child, depth });
      visit(child, depth + 1);
    }
  };
  visit(root, 1);
  return { process: root, ancestors, descendants };
}

function search(world: World, query: Partial<EventQuery>): Answer {
  const all = [...world.processes.map((node) => startEvent(world, node)), ...world.events];
  const events = all.filter((event) => {
    if (query.host && !sameHost(query.host, event.host)) return false;
    if (query.action && event.action !== query.action) return false;
    if (query.processGuid && bare(event.process?.guid) !== bare(query.processGuid)) return false;
    if (query.parentProcessGuid && bare(event.parent?.guid) !== bare(query.parentProcessGuid)) return false;
    if (query.process && !event.process?.image.toLowerCase().includes(query.process.toLowerCase()))
      return false;
    if (
      query.commandLine &&
      !event.process?.commandLine.toLowerCase().includes(query.commandLine.toLowerCase())
    )
      return false;
    if (query.from && event.timestamp < query.from) return false;
    if (query.to && event.timestamp > query.to) return false;
    return true;
  });
  const offset = query.offset ?? 0;
  const page = events.slice(offset, offset + (query.limit ?? 50));
  return { isError: false, value: { events: page, total: events.length, nextOffset: null } };
}

/** Answers read-only tool calls from the world, like the lab backends would. */
export function answerFrom(world: World): Answerer {
  return (call) => {
    const input = call.input as Record<string, unknown>;
    switch (call.name) {
      case 'edr.process_tree': {
        const node = world.processes.find((candidate) =>
          input.processGuid !== undefined
            ? bare(candidate.guid) === bare(input.processGuid)
            : sameHost(candidate.host, input.host) && candidate.pid === input.pid,
        );
        return node ? { isError: false, value: tree(world, node) } : notFound('no such process');
      }
      case 'edr.network_connections': {
        const connections = world.connections.filter((item) =>
          input.processGuid !== undefined
            ? bare(item.processGuid) === bare(input.processGuid)
            : sameHost(item.host, input.host),
        );
        return { isError: false, value: { connections } };
      }
      case 'edr.host_summary': {
        const summary = world.hosts.find((candidate) => sameHost(candidate.host, input.host));
        return summary ? { isError: false, value: summary } : notFound('unknown host');
      }
      case 'siem.search_events':
        return search(world, input as Partial<EventQuery>);
      case 'intel.lookup_indicator': {
        const value = String(input.value);
        const matches = world.intel[value.toLowerCase()] ?? [];
        const type = typeof input.type === 'string' ? input.type : 'domain';
        return {
          isError: false,
          value: { value, type, verdict: matches.length > 0 ? 'malicious' : 'unknown', matches },
        };
      }
      case 'load_skill':
        return {
          isError: false,
          value: {
            name: input.name,
            description: 'runbook',
            content: '# Runbook\n1. Check the lineage.',
            hash: 'sha256:00',
          },
        };
      default:
        return {
          isError: true,
          value: { error: 'unknown_tool', message: `${call.name} is not served in this test` },
        };
    }
  };
}

export interface Investigation {
  responses: ModelResponse[];
  messages: Message[];
  calls: ToolCallBlock[];
  verdict: Record<string, unknown> | null;
  knownRefs: Set<string>;
  /** Validation messages of rejected submissions. */
  rejections: string[];
}

/**
 * Drives a provider through the protocol the agent loop follows: each tool call answered in order
 * with a fresh ref; a verdict is accepted when it passes `verdictSchema` and cites only known refs.
 */
export async function investigate(
  provider: ModelProvider,
  request: ModelRequest,
  answer: Answerer,
  options: { maxTurns?: number; reject?: (verdict: unknown, attempt: number) => string | null } = {},
): Promise<Investigation> {
  const messages = structuredClone(request.messages);
  const result: Investigation = {
    responses: [],
    messages,
    calls: [],
    verdict: null,
    knownRefs: new Set([alertRef]),
    rejections: [],
  };
  let refCounter = 0;
  let attempts = 0;
  for (let turn = 0; turn < (options.maxTurns ?? 12); turn += 1) {
    const response = await provider.generate({ ...request, messages: structuredClone(messages) });
    result.responses.push(response);
    messages.push({ role: 'assistant', content: response.content });
    const calls = response.content.filter((block): block is ToolCallBlock => block.type === 'tool_call');
    if (calls.length === 0) return result;
    const results: ToolResultBlock[] = [];
    for (const call of calls) {
      result.calls.push(call);
      refCounter += 1;
      const ref = `ref-${refCounter}`;
      if (call.name === SUBMIT_VERDICT_TOOL) {
        attempts += 1;
        const parsed = verdictSchema.safeParse(call.input);
        const unknownRefs = parsed.success
          ? parsed.data.evidence.flatMap((item) => item.refs).filter((cited) => !result.knownRefs.has(cited))
          : [];
        const problem = !parsed.success
          ? parsed.error.message
          : unknownRefs.length > 0
            ? `unknown refs ${unknownRefs.join(', ')}`
            : (options.reject?.(call.input, attempts) ?? null);
        if (problem === null) {
          result.verdict = call.input;
          return result;
        }
        result.rejections.push(problem);
        results.push({
          type: 'tool_result',
          callId: call.id,
          name: call.name,
          ref,
          isError: true,
          trust: 'trusted',
          value: { error: 'invalid_verdict', message: problem },
        });
      } else {
        const outcome = answer(call);
        results.push({
          type: 'tool_result',
          callId: call.id,
          name: call.name,
          ref,
          isError: outcome.isError,
          trust: 'untrusted',
          value: outcome.value,
        });
      }
      result.knownRefs.add(ref);
    }
    messages.push({ role: 'user', content: results });
  }
  return result;
}

export type RecommendedAction = { tool: string; args: Record<string, unknown>; reason: string };

export function actionsOf(verdict: Record<string, unknown> | null): RecommendedAction[] {
  return (verdict?.recommendedActions as RecommendedAction[] | undefined) ?? [];
}

/** Alert facts with every field empty but those given, for tests of the analyst's reasoning. */
export function alertFacts(fields: Partial<AlertFacts>, ref = 'r'): AlertFacts {
  return {
    ref,
    id: 'a',
    title: '',
    severity: 'medium',
    time: null,
    host: null,
    user: null,
    image: null,
    commandLine: null,
    processId: null,
    processGuid: null,
    parentImage: null,
    parentCommandLine: null,
    parentProcessGuid: null,
    techniques: [],
    targetObject: null,
    targetImage: null,
    destination: null,
    queryName: null,
    ...fields,
  };
}

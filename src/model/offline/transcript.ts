import { type Message, SUBMIT_VERDICT_TOOL, type ToolCallBlock, type ToolResultBlock } from '../provider.js';

/** One tool call the analyst made and the result the loop returned for it (if any yet). */
export interface ToolExchange {
  call: ToolCallBlock;
  result: ToolResultBlock | undefined;
}

export interface Transcript {
  /** Investigation calls, in the order they were made (verdict submissions excluded). */
  exchanges: ToolExchange[];
  /** `submit_verdict` calls, in order. */
  submissions: ToolExchange[];
  assistantTurns: number;
  /** Every tool call made in the run, submissions included. */
  callCount: number;
  usedIds: Set<string>;
}

/** Rebuilds the calls and their results from the conversation alone (the analyst keeps no state). */
export function readTranscript(messages: readonly Message[]): Transcript {
  const results = new Map<string, ToolResultBlock>();
  for (const message of messages) {
    if (message.role !== 'user') continue;
    for (const block of message.content) {
      if (block.type === 'tool_result' && !results.has(block.callId)) results.set(block.callId, block);
    }
  }
  const transcript: Transcript = {
    exchanges: [],
    submissions: [],
    assistantTurns: 0,
    callCount: 0,
    usedIds: new Set(),
  };
  for (const message of messages) {
    if (message.role !== 'assistant') continue;
    transcript.assistantTurns += 1;
    for (const block of message.content) {
      if (block.type !== 'tool_call') continue;
      transcript.callCount += 1;
      transcript.usedIds.add(block.id);
      const exchange = { call: block, result: results.get(block.id) };
      if (block.name === SUBMIT_VERDICT_TOOL) transcript.submissions.push(exchange);
      else transcript.exchanges.push(exchange);
    }
  }
  return transcript;
}

/** Call ids `call_<n>` continuing the run's numbering, skipping any id already used. */
export function nextCallIds(transcript: Transcript, count: number): string[] {
  const ids: string[] = [];
  let next = transcript.callCount + 1;
  while (ids.length < count) {
    const id = `call_${next}`;
    if (!transcript.usedIds.has(id)) ids.push(id);
    next += 1;
  }
  return ids;
}

function field(input: Record<string, unknown>, key: string): string {
  const value = input[key];
  return typeof value === 'string' || typeof value === 'number' ? String(value).toLowerCase() : '';
}

function windowHours(input: Record<string, unknown>): number {
  const from = typeof input.from === 'string' ? Date.parse(input.from) : Number.NaN;
  const to = typeof input.to === 'string' ? Date.parse(input.to) : Number.NaN;
  return Number.isNaN(from) || Number.isNaN(to) ? Number.POSITIVE_INFINITY : (to - from) / 3_600_000;
}

/**
 * What a call was for, so the plan never repeats a question after a resume or an error. Two
 * calls with the same purpose are the same question even if their arguments differ in detail.
 */
export function purposeOf(name: string, input: Record<string, unknown>): string {
  switch (name) {
    case 'load_skill':
      return `skill:${field(input, 'name')}`;
    case 'edr.process_tree':
      return input.processGuid !== undefined
        ? `tree:${field(input, 'processGuid')}`
        : `tree:${field(input, 'host')}:${field(input, 'pid')}`;
    case 'edr.network_connections':
      return input.processGuid !== undefined
        ? `connections:${field(input, 'processGuid')}`
        : `connections-host:${field(input, 'host')}`;
    case 'edr.host_summary':
      return `host:${field(input, 'host')}`;
    case 'intel.lookup_indicator':
      return `intel:${field(input, 'value')}`;
    case 'siem.search_events': {
      const action = field(input, 'action');
      // Searches narrowed by event id, text or account are their own questions (runbook checks).
      const narrowed = ['eventCode', 'text', 'user'].some((key) => input[key] !== undefined);
      if (action === 'process_start' && !narrowed) {
        if (input.parentProcessGuid !== undefined) return `children:${field(input, 'parentProcessGuid')}`;
        if (input.processGuid !== undefined) return `process-start:${field(input, 'processGuid')}`;
        if (input.process !== undefined || input.commandLine !== undefined)
          return windowHours(input) > 2 ? 'find-process-wide' : 'find-process';
      }
      if (action !== '' && action !== 'process_start' && !narrowed)
        return `events:${action}${input.processGuid !== undefined ? `:${field(input, 'processGuid')}` : ''}`;
      return `search:${JSON.stringify(input)}`;
    }
    default:
      return `${name}:${JSON.stringify(input)}`;
  }
}

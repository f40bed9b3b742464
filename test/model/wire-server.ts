import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server received, parsed. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** Every string in the body, joined: what the model was shown, for ref look-ups. */
  text: string;
}

/** A reply: a JSON body (with {{ref:…}} placeholders filled), an error status, a hang, or a dropped socket. */
export type Reply =
  | { status?: number; headers?: Record<string, string>; body: unknown }
  | { hang: true }
  | { destroy: true };

export type Replier = (request: RecordedRequest, index: number) => Reply;

export interface WireServer {
  readonly baseURL: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A recorded transcript from test/fixtures/model/. */
export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/model/${name}`, import.meta.url), 'utf8'));
}

function strings(value: unknown, out: string[]): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) strings(item, out);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) strings(item, out);
  return out;
}

/** Refs the request showed the model: the alert's, and the tool results' in order. */
export function refsShown(request: RecordedRequest): { alert: string | undefined; results: string[] } {
  const alert = /<data label="alert" trust="untrusted" ref="([^"]+)">/.exec(request.text)?.[1];
  const results = [...request.text.matchAll(/<tool-result [^>]*ref="([^"]+)"/g)].map(
    (match) => match[1] ?? '',
  );
  return { alert, results };
}

/** Fills `{{ref:alert}}` and `{{ref:last}}` in a recorded reply with the refs of this run's request. */
export function fill(reply: unknown, request: RecordedRequest): unknown {
  const { alert, results } = refsShown(request);
  const text = JSON.stringify(reply)
    .replaceAll('{{ref:alert}}', alert ?? 'no-alert-ref')
    .replaceAll('{{ref:last}}', results.at(-1) ?? alert ?? 'no-result-ref');
  return JSON.parse(text);
}

/**
 * A loopback HTTP server speaking just enough of a model API's wire format for the real SDKs:
 * it records every request and answers with the replier's reply.
 */
export async function startWireServer(replier: Replier): Promise<WireServer> {
  const requests: RecordedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      const request: RecordedRequest = {
        method: incoming.method ?? '',
        path: incoming.url ?? '',
        headers: incoming.headers,
        body,
        text: strings(body, []).join('\n'),
      };
      requests.push(request);
      const reply = replier(request, requests.length - 1);
      if ('hang' in reply) {
        hanging.add(response);
        return;
      }
      if ('destroy' in reply) {
        incoming.socket.destroy();
        return;
      }
      const payload = JSON.stringify(fill(reply.body, request));
      response.writeHead(reply.status ?? 200, {
        'content-type': 'application/json',
        'request-id': `req_${requests.length}`,
        ...reply.headers,
      });
      response.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of hanging) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port that was just free and now has nothing listening: connection refused. */
export async function closedPortURL(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Replays turns in order by model id (orchestrator and sub-task models share one server). */
export function replayByModel(turns: Record<string, unknown[]>): Replier {
  const next = new Map<string, number>();
  return (request) => {
    const model = String(request.body.model);
    const list = turns[model];
    const index = next.get(model) ?? 0;
    next.set(model, index + 1);
    const body = list?.[index];
    if (body === undefined)
      return {
        status: 400,
        body: {
          type: 'error',
          error: { type: 'invalid_request_error', message: `no turn ${index + 1} recorded for ${model}` },
        },
      };
    return { body };
  };
}

type WireBlock = Record<string, unknown> & { type?: unknown };
type WireTool = { name?: unknown; type?: unknown; description?: unknown; defer_loading?: unknown };

function wireTools(body: Record<string, unknown>): WireTool[] {
  return Array.isArray(body.tools) ? (body.tools as WireTool[]) : [];
}

function isSearchTool(tool: WireTool): boolean {
  return typeof tool.type === 'string' && tool.type.startsWith('tool_search_tool_');
}

function wireMessages(body: Record<string, unknown>): Array<{ role: string; content: WireBlock[] }> {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  return messages.map((message: { role: string; content: unknown }) => ({
    role: message.role,
    content: Array.isArray(message.content) ? (message.content as WireBlock[]) : [],
  }));
}

/** The tool names a `tool_search_tool_result` block references. */
export function referencedTools(block: WireBlock): string[] {
  const content = block.content as { tool_references?: Array<{ tool_name?: unknown }> } | undefined;
  return (content?.tool_references ?? []).map((reference) => String(reference.tool_name));
}

/**
 * What the Messages API refuses in a request that defers tools (as its 400 would say), or null:
 * deferred tools need the tool-search tool, which is never deferred itself; a search result
 * follows its `server_tool_use` and references deferred tools the request defines; a deferred
 * tool is called only after a search result in the conversation referenced it.
 */
export function toolSearchViolation(body: Record<string, unknown>): string | null {
  const tools = wireTools(body);
  const deferred = new Set(
    tools.filter((tool) => tool.defer_loading === true).map((tool) => String(tool.name)),
  );
  const search = tools.find(isSearchTool);
  if (search?.defer_loading === true) return 'tools: the tool search tool cannot be deferred';
  if (deferred.size > 0 && !search) return 'tools: deferred tools need a tool search tool';
  const referenced = new Set<string>();
  for (const message of wireMessages(body)) {
    const uses = new Set<string>();
    for (const block of message.content) {
      if (block.type === 'server_tool_use') uses.add(String(block.id));
      else if (block.type === 'tool_search_tool_result') {
        if (message.role !== 'assistant' || !uses.has(String(block.tool_use_id)))
          return `messages: tool_search_tool_result ${String(block.tool_use_id)} does not follow its server_tool_use`;
        for (const name of referencedTools(block)) {
          if (!deferred.has(name)) return `messages: tool_reference ${name} names no deferred tool`;
          referenced.add(name);
        }
      } else if (
        block.type === 'tool_use' &&
        deferred.has(String(block.name)) &&
        !referenced.has(String(block.name))
      )
        return `messages: tool_use of ${String(block.name)}, a deferred tool no search has loaded`;
    }
  }
  return null;
}

/** The server side of a regex tool search: the deferred tools whose name or description matches. */
export function searchDeferredTools(body: Record<string, unknown>, pattern: string): string[] {
  const regex = new RegExp(pattern, 'i');
  return wireTools(body)
    .filter((tool) => tool.defer_loading === true)
    .filter((tool) => regex.test(String(tool.name)) || regex.test(String(tool.description ?? '')))
    .map((tool) => String(tool.name));
}

/** A replier behind the Messages API's tool-search rules: a request breaking one gets its 400. */
export function withToolSearchRules(replier: Replier): Replier {
  return (request, index) => {
    const violation = toolSearchViolation(request.body);
    if (violation === null) return replier(request, index);
    return {
      status: 400,
      body: { type: 'error', error: { type: 'invalid_request_error', message: violation } },
    };
  };
}

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, expect } from 'vitest';

const openClients: Client[] = [];
afterEach(async () => {
  await Promise.all(openClients.splice(0).map((client) => client.close()));
});

/** A real MCP client linked in memory to `server`; tools are listed so results are validated against output schemas. */
export async function connect(server: McpServer): Promise<{ client: Client; tools: Tool[] }> {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = new Client({ name: 'warden-test', version: '0.0.0' });
  await client.connect(clientTransport);
  openClients.push(client);
  const { tools } = await client.listTools();
  return { client, tools };
}

/** Calls a tool and returns its structured content, checking the JSON text block says the same. */
export async function callOk<T = Record<string, unknown>>(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  meta?: Record<string, unknown>,
): Promise<T> {
  const result = (await client.callTool({
    name,
    arguments: args,
    ...(meta ? { _meta: meta } : {}),
  })) as CallToolResult;
  const text = result.content.find((block) => block.type === 'text');
  expect(result.isError, text?.type === 'text' ? text.text : 'no text').toBeFalsy();
  expect(result.structuredContent).toBeDefined();
  expect(text?.type === 'text' ? JSON.parse(text.text) : undefined).toEqual(result.structuredContent);
  return result.structuredContent as T;
}

/** Calls a tool that must fail as a readable `isError` result; returns its message. */
export async function callError(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<string> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  expect(result.isError).toBe(true);
  expect(result.structuredContent).toBeUndefined();
  const text = result.content.find((block) => block.type === 'text');
  return text?.type === 'text' ? text.text : '';
}

/** Every listed tool has both schemas, object-typed, and the expected names. */
export function expectTools(tools: Tool[], names: string[]): void {
  expect(tools.map((tool) => tool.name).sort()).toEqual([...names].sort());
  for (const tool of tools) {
    expect(tool.description?.length, tool.name).toBeGreaterThan(40);
    expect(tool.inputSchema.type, tool.name).toBe('object');
    expect(tool.outputSchema?.type, tool.name).toBe('object');
    expect(Object.keys(tool.outputSchema?.properties ?? {}).length, tool.name).toBeGreaterThan(0);
    expect(tool.annotations?.readOnlyHint, tool.name).toBeTypeOf('boolean');
  }
}

import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { ServerConnection } from '../src/capability/gateway/index.js';

export function tempHome(prefix = 'warden-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** `node --import tsx` arguments, so child processes run the TypeScript sources directly. */
export function tsxArgs(script: string, ...args: string[]): string[] {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return ['--import', tsx, script, ...args];
}

/**
 * A gateway connection to `server` (an external MCP server, not bundled) through a real MCP client
 * linked in memory, its tools listed.
 */
export async function linkedConnection(name: string, server: Server): Promise<ServerConnection> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'warden-test', version: '0.0.0' });
  await client.connect(clientSide);
  const { tools } = await client.listTools();
  return { name, bundledKind: null, client, tools, close: () => client.close() };
}

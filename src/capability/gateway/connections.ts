import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig, WardenConfig } from '../../config/index.js';
import { BackendError, describeError } from '../../errors.js';
import { type BundledServerName, connectBundledServer } from '../servers/index.js';

export interface ServerConnection {
  name: string;
  /** Bundled kind when this is one of Warden's own servers. */
  bundledKind: string | null;
  client: Client;
  tools: Tool[];
  close(): Promise<void>;
}

const MAX_TOOL_PAGES = 50;

/** The command that serves a bundled server over stdio: this same Warden, `warden mcp <name>`. */
export function bundledServerCommand(
  name: string,
  home: string,
  configPath?: string,
): { command: string; args: string[] } {
  const tail = ['mcp', name, '--home', home, ...(configPath ? ['--config', configPath] : [])];
  if (fileURLToPath(import.meta.url).endsWith('.ts')) {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    return {
      command: process.execPath,
      args: ['--import', tsx, fileURLToPath(new URL('../../cli/main.ts', import.meta.url)), ...tail],
    };
  }
  return {
    command: process.execPath,
    args: [fileURLToPath(new URL('../../cli/main.js', import.meta.url)), ...tail],
  };
}

function describeServer(config: ServerConfig): string {
  if ('command' in config) return `command ${[config.command, ...config.args].join(' ')}`;
  if ('url' in config) return `url ${config.url}${config.bundled ? ` (Warden's ${config.bundled})` : ''}`;
  return `bundled ${config.bundled} over ${config.transport}`;
}

function bundledKindOf(config: ServerConfig): string | null {
  if ('command' in config) return null;
  return config.bundled ?? null;
}

export interface ConnectOptions {
  home: string;
  timeoutMs: number;
  /** The config file the parent read, handed on to bundled servers it spawns. */
  configPath?: string;
  /** The `lab:` settings for bundled servers linked in-process. */
  lab?: WardenConfig['lab'];
}

async function openTransport(
  config: ServerConfig,
  options: ConnectOptions,
): Promise<{ transport: Transport; extraClose?: () => Promise<void> }> {
  const { home } = options;
  if ('transport' in config) {
    if (config.transport === 'memory') {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      const server = await connectBundledServer(
        config.bundled as BundledServerName,
        {
          home,
          ...(options.lab ? { lab: options.lab } : {}),
          baseDir: options.configPath ? dirname(options.configPath) : process.cwd(),
        },
        serverSide,
      );
      return { transport: clientSide, extraClose: () => server.close() };
    }
    const { command, args } = bundledServerCommand(config.bundled, home, options.configPath);
    return {
      transport: new StdioClientTransport({ command, args, env: getDefaultEnvironment(), stderr: 'inherit' }),
    };
  }
  if ('command' in config) {
    return {
      transport: new StdioClientTransport({
        command: config.command,
        args: config.args,
        env: { ...getDefaultEnvironment(), ...config.env },
        ...(config.cwd ? { cwd: config.cwd } : {}),
        stderr: 'inherit',
      }),
    };
  }
  return {
    transport: new StreamableHTTPClientTransport(new URL(config.url), {
      requestInit: { headers: config.headers },
    }),
  };
}

async function listAllTools(client: Client, timeoutMs: number): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_TOOL_PAGES; page++) {
    const result = await client.listTools(cursor ? { cursor } : {}, { timeout: timeoutMs });
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (!cursor) break;
  }
  return tools;
}

/** Connects to one configured MCP server and lists its tools. */
export async function connectServer(
  name: string,
  config: ServerConfig,
  options: ConnectOptions,
): Promise<ServerConnection> {
  const client = new Client({ name: 'warden-gateway', version: '0.1.0' });
  let extraClose: (() => Promise<void>) | undefined;
  try {
    const opened = await openTransport(config, options);
    extraClose = opened.extraClose;
    await client.connect(opened.transport, { timeout: options.timeoutMs });
    const tools = await listAllTools(client, options.timeoutMs);
    return {
      name,
      bundledKind: bundledKindOf(config),
      client,
      tools,
      async close() {
        await client.close().catch(() => undefined);
        await extraClose?.().catch(() => undefined);
      },
    };
  } catch (error) {
    await client.close().catch(() => undefined);
    await extraClose?.().catch(() => undefined);
    throw new BackendError(
      `server ${name} (${describeServer(config)}) could not be reached: ${describeError(error)}; check servers.${name} in warden.yaml`,
      { cause: error },
    );
  }
}

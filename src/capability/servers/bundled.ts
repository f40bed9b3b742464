import { resolve } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { WardenConfig } from '../../config/index.js';
import { type CredentialVerifier, createCredentialVerifier } from '../../credential/index.js';
import type { LabBackends, StoreBackends } from '../../lab/index.js';
import {
  createIntelFromSources,
  createLabIam,
  createStoreBackends,
  intelSourcesFrom,
  loadSampleLab,
} from '../../lab/index.js';
import { logger } from '../../logging.js';
import { guardToolCalls, readOnlyToolsOf } from './credential-guard.js';
import { createEdrServer } from './edr/server.js';
import { createIamServer } from './iam/server.js';
import { createIntelServer } from './intel/server.js';
import { createSiemServer } from './siem/server.js';
import { createTicketServer } from './ticket/server.js';

export const bundledServerNames = ['siem', 'edr', 'intel', 'ticket', 'iam'] as const;
export type BundledServerName = (typeof bundledServerNames)[number];

export interface BundledServerOptions {
  /** Warden home; lab state (endpoints, tickets) lives in `<home>/lab/`. */
  home: string;
  /** The `lab:` section of warden.yaml (intel sources, IAM groups); defaults when absent. */
  lab?: WardenConfig['lab'];
  /** Directory that relative paths in `lab` are resolved against: the config file's, else the working directory. */
  baseDir?: string;
  /**
   * The operator's opt-out (`warden mcp <server> --allow-unauthenticated`): the server's
   * read-only tools run without a credential. Writes always need one.
   */
  allowUnauthenticatedReads?: boolean;
}

// One loaded lab per home per process: the telemetry is read-only, and persisted state is re-read per call.
const labsByHome = new Map<string, LabBackends>();

// Telemetry for siem and edr comes from the home's DuckDB store (seeded with the sample on first use).
const storesByHome = new Map<string, StoreBackends>();

function storeFor(home: string): StoreBackends {
  const key = resolve(home);
  let store = storesByHome.get(key);
  if (!store) {
    store = createStoreBackends(key);
    storesByHome.set(key, store);
  }
  return store;
}

function labFor(home: string): LabBackends {
  const key = resolve(home);
  let lab = labsByHome.get(key);
  if (!lab) {
    lab = loadSampleLab(key);
    labsByHome.set(key, lab);
  }
  return lab;
}

/**
 * Builds one bundled MCP server: siem, edr and iam over the home's event store, intel over the
 * configured ATT&CK bundle and trail/feed folders (the sample feeds by default), tickets in PGlite.
 */
export function createBundledServer(name: BundledServerName, options: BundledServerOptions): McpServer {
  const baseDir = options.baseDir ?? process.cwd();
  switch (name) {
    case 'siem':
      return createSiemServer(storeFor(options.home).siem);
    case 'edr':
      return createEdrServer(storeFor(options.home).edr);
    case 'intel':
      return createIntelServer(createIntelFromSources(intelSourcesFrom(options.lab?.intel, baseDir)));
    case 'ticket':
      return createTicketServer(labFor(options.home).tickets);
    case 'iam': {
      const groupsFile = options.lab?.iam.groupsFile;
      return createIamServer(
        createLabIam({
          siem: storeFor(options.home).siem,
          home: resolve(options.home),
          ...(groupsFile ? { groupsFile: resolve(baseDir, groupsFile) } : {}),
        }),
      );
    }
  }
}

/**
 * Waits for the event store behind siem, edr and iam to be open (seeded with the sample on first
 * use), so a server does not answer before its telemetry is there. A failed open is not fatal here:
 * the backends retry it on the next call (`lab load` may hold the store for a while).
 */
export async function bundledTelemetryReady(name: BundledServerName, home: string): Promise<void> {
  if (name === 'siem' || name === 'edr' || name === 'iam')
    await storeFor(home)
      .ready()
      .catch(() => undefined);
}

/**
 * Builds a bundled server, connects it to `transport` and guards every `tools/call` on it:
 * the one way Warden serves its own servers (stdio, Streamable HTTP, in-process).
 */
export async function connectBundledServer(
  name: BundledServerName,
  options: BundledServerOptions,
  transport: Transport,
  verifier: CredentialVerifier = createCredentialVerifier({ home: options.home, server: name }),
): Promise<McpServer> {
  const server = createBundledServer(name, options);
  await server.connect(transport);
  guardToolCalls(transport, {
    server: name,
    verifier,
    unauthenticatedTools: options.allowUnauthenticatedReads ? readOnlyToolsOf(server) : new Set(),
  });
  return server;
}

/**
 * Serves one bundled server on this process's stdin/stdout until stdin closes and every request
 * received has been answered. Nothing but protocol goes to stdout; diagnostics go to the stderr logger.
 */
export async function serveBundledStdio(
  name: BundledServerName,
  options: BundledServerOptions,
): Promise<void> {
  const stdinClosed = new Promise<void>((done) => {
    process.stdin.once('end', done);
    process.stdin.once('close', done);
  });
  const transport = new StdioServerTransport();
  const server = await connectBundledServer(name, options, transport);
  server.server.onerror = (error) => logger.error({ err: error, server: name }, 'mcp server error');
  const requests = trackRequests(transport);
  await stdinClosed;
  await requests.answered(drainTimeoutMs);
  await server.close();
}

/** How long a closing stdio server waits for replies to requests still in flight. */
const drainTimeoutMs = 30_000;

/**
 * Counts requests received and not yet answered, so `echo '<request>' | warden mcp siem` gets its
 * reply even though stdin ends before the (asynchronous) tool call does.
 */
function trackRequests(transport: Transport): { answered(timeoutMs: number): Promise<void> } {
  const pending = new Set<string | number>();
  let onIdle: (() => void) | null = null;
  const receive = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if ('method' in message && 'id' in message) pending.add(message.id);
    receive?.(message, extra);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message, sendOptions) => {
    await send(message, sendOptions);
    if ('id' in message && message.id !== undefined && !('method' in message)) pending.delete(message.id);
    if (pending.size === 0) onIdle?.();
  };
  return {
    answered: (timeoutMs) =>
      new Promise<void>((done) => {
        if (pending.size === 0) return done();
        const timer = setTimeout(done, timeoutMs);
        onIdle = () => {
          clearTimeout(timer);
          done();
        };
      }),
  };
}

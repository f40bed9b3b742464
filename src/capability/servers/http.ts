import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { type CredentialVerifier, createCredentialVerifier } from '../../credential/index.js';
import { ConfigError } from '../../errors.js';
import { logger } from '../../logging.js';
import {
  type BundledServerName,
  type BundledServerOptions,
  bundledTelemetryReady,
  connectBundledServer,
  createBundledServer,
} from './bundled.js';

export interface BundledHttpOptions extends BundledServerOptions {
  /** Loopback address to bind: 127.0.0.1 (default), ::1 or localhost. */
  host?: string;
  /** TCP port; 0 picks a free one. */
  port: number;
}

export interface ServedHttp {
  /** The MCP endpoint, e.g. `http://127.0.0.1:8931/mcp`. */
  url: string;
  close(): Promise<void>;
}

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const endpointPath = '/mcp';

/**
 * Serves one bundled server over Streamable HTTP (stateless: a fresh server and transport per
 * request) on a loopback address only. Requests whose Host or Origin is not loopback are
 * refused, so a web page cannot reach the server through DNS rebinding.
 */
export async function serveBundledHttp(
  name: BundledServerName,
  options: BundledHttpOptions,
): Promise<ServedHttp> {
  const host = options.host ?? '127.0.0.1';
  if (!loopbackHosts.has(host)) {
    throw new ConfigError(
      `the bundled ${name} server binds to loopback only; got host "${host}", use 127.0.0.1`,
    );
  }
  createBundledServer(name, options); // load the lab now, so a broken install fails at start-up, not on a request
  await bundledTelemetryReady(name, options.home);
  const verifier = createCredentialVerifier({ home: options.home, server: name });

  const httpServer = createServer((request, response) => {
    handle(name, options, verifier, request, response).catch((error: unknown) => {
      logger.error({ err: error, server: name }, 'mcp http request failed');
      if (!response.headersSent) sendError(response, 500, -32603, 'Internal server error');
      else response.end();
    });
  });
  await new Promise<void>((listening, failed) => {
    httpServer.once('error', failed);
    httpServer.listen(options.port, host, () => {
      httpServer.off('error', failed);
      listening();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}${endpointPath}`,
    close: () =>
      new Promise<void>((closed, failed) => {
        httpServer.close((error) => (error ? failed(error) : closed()));
        httpServer.closeAllConnections();
      }),
  };
}

async function handle(
  name: BundledServerName,
  options: BundledServerOptions,
  verifier: CredentialVerifier,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (!isLoopbackHostHeader(request.headers.host) || !isLoopbackOrigin(request.headers.origin)) {
    sendError(response, 403, -32000, 'Forbidden: this server only accepts loopback Host and Origin headers');
    return;
  }
  if (new URL(request.url ?? '/', 'http://127.0.0.1').pathname !== endpointPath) {
    sendError(response, 404, -32000, `Not found: the MCP endpoint is ${endpointPath}`);
    return;
  }
  if (request.method !== 'POST') {
    // Stateless mode: no standalone SSE stream (GET) and no session to delete (DELETE).
    response.setHeader('Allow', 'POST');
    sendError(response, 405, -32000, 'Method not allowed');
    return;
  }
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  const server = await connectBundledServer(name, options, transport, verifier);
  response.on('close', () => {
    void transport.close();
    void server.close();
  });
  await transport.handleRequest(request, response);
}

function isLoopbackHostHeader(header: string | undefined): boolean {
  if (header === undefined) return false;
  try {
    return loopbackHosts.has(new URL(`http://${header}`).hostname);
  } catch {
    return false;
  }
}

function isLoopbackOrigin(origin: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    return loopbackHosts.has(new URL(origin).hostname);
  } catch {
    return false;
  }
}

function sendError(response: ServerResponse, status: number, code: number, message: string): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

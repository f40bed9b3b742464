import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventPage, HostSummary, ResponseOutcome } from '../../../src/capability/backends/types.js';
import { type ServedHttp, serveBundledHttp } from '../../../src/capability/servers/index.js';
import { createCredentialIssuer } from '../../../src/control/index.js';
import { credentialMetaKey } from '../../../src/credential/index.js';
import { ConfigError } from '../../../src/errors.js';
import { useTempHome } from '../../lab/helpers.js';
import { callOk } from './client.js';

const tempHome = useTempHome();
const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The `_meta` a gateway would send: a credential for every tool of `server` on `home`. */
function credentialMeta(home: string, server: string): Record<string, string> {
  const { token } = createCredentialIssuer({ home }).mint({
    runId: 'run-test',
    server,
    tools: ['*'],
    ttlSeconds: 60,
  });
  return { [credentialMetaKey]: token };
}

describe('bundled server over stdio', () => {
  it('answers a real client from a child process', async () => {
    const home = tempHome();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', 'test/fixtures/serve-bundled.ts', 'siem', home],
      cwd: projectRoot,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'warden-test', version: '0.0.0' });
    await client.connect(transport);
    try {
      expect(client.getServerVersion()?.name).toBe('warden-siem');
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain('search_events');
      const page = await callOk<EventPage>(
        client,
        'search_events',
        { commandLine: 'nltest', action: 'process_start' },
        credentialMeta(home, 'siem'),
      );
      expect(page.events.map((event) => event.host)).toEqual([
        'FIN-WS01.harbourline.local',
        'FIN-WS01.harbourline.local',
      ]);
    } finally {
      await client.close();
    }
  });

  it('writes nothing but protocol to stdout, answers piped requests and exits 0 when stdin closes', async () => {
    const home = tempHome();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/serve-bundled.ts', 'ticket', home],
      {
        cwd: projectRoot,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    const messages = [
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } },
      },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: {
          name: 'create_ticket',
          arguments: { title: 'piped', severity: 'low', body: 'b' },
          _meta: credentialMeta(home, 'ticket'),
        },
      },
    ];
    child.stdin.end(messages.map((message) => `${JSON.stringify(message)}\n`).join(''));
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const replies = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(replies).toHaveLength(2);
    expect(replies[0]).toMatchObject({
      jsonrpc: '2.0',
      id: 1,
      result: { serverInfo: { name: 'warden-ticket' } },
    });
    expect(replies[1]).toMatchObject({
      id: 2,
      result: { structuredContent: { ticket: { id: 'TKT-0001', title: 'piped' } } },
    });
  });
});

describe('bundled server over Streamable HTTP', () => {
  const served: ServedHttp[] = [];
  afterEach(async () => {
    await Promise.all(served.splice(0).map((server) => server.close()));
  });

  it('serves a real client on loopback, persisting state in the home', async () => {
    const home = tempHome();
    const server = await serveBundledHttp('edr', { home, host: '127.0.0.1', port: 0 });
    served.push(server);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const client = new Client({ name: 'warden-test', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    try {
      await client.listTools();
      const meta = credentialMeta(home, 'edr');
      const outcome = await callOk<ResponseOutcome>(
        client,
        'isolate_host',
        { host: 'SALES-WS02', reason: 'test' },
        meta,
      );
      expect(outcome).toMatchObject({ host: 'SALES-WS02', changed: true });
      expect((await callOk<HostSummary>(client, 'host_summary', { host: 'SALES-WS02' }, meta)).isolated).toBe(
        true,
      );
    } finally {
      await client.close();
    }
  });

  it('refuses a non-loopback Host header, other paths and non-loopback binds', async () => {
    const server = await serveBundledHttp('siem', { home: tempHome(), host: '127.0.0.1', port: 0 });
    served.push(server);
    const url = new URL(server.url);
    const post = (path: string, host: string) =>
      new Promise<number>((resolve, reject) => {
        const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path,
            method: 'POST',
            headers: {
              Host: host,
              'Content-Type': 'application/json',
              Accept: 'application/json, text/event-stream',
            },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    expect(await post('/mcp', 'evil.example')).toBe(403);
    expect(await post('/mcp', `attacker.example:${url.port}`)).toBe(403);
    expect(await post('/other', `127.0.0.1:${url.port}`)).toBe(404);
    await expect(serveBundledHttp('siem', { home: tempHome(), host: '0.0.0.0', port: 0 })).rejects.toThrow(
      ConfigError,
    );
  });
});

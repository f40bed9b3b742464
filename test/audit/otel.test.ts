import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/agent/alert.js';
import { parseAlerts } from '../../src/agent/index.js';
import { type OtlpTraces, toOtlp, traceIdOf } from '../../src/audit/index.js';
import { createGateway, type Gateway } from '../../src/capability/gateway/index.js';
import { exportAudit } from '../../src/cli/runs.js';
import { configSchema } from '../../src/config/index.js';
import { createOfflineAnalyst } from '../../src/model/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { runThroughApprovals } from '../fixtures/approval-run.js';
import { tempHome } from '../helpers.js';

const alert = parseAlerts(readFileSync('examples/alerts/mshta-powershell.json', 'utf8'), 'mshta')[0] as Alert;
const config = configSchema.parse({
  servers: Object.fromEntries(
    ['siem', 'edr', 'intel', 'ticket'].map((name) => [name, { bundled: name, transport: 'memory' }]),
  ),
});
let home: string;
let store: Store;
let gateway: Gateway;
let runId: string;

beforeAll(async () => {
  home = tempHome();
  store = await openStore({ home });
  gateway = await createGateway({ config, home });
  const deps = { store, gateway, provider: createOfflineAnalyst(), skills: [], config };
  runId = await runThroughApprovals(deps, home, alert);
  await gateway.close();
  await store.close();
});
afterAll(async () => {
  await store?.close();
});

function spansOf(traces: OtlpTraces) {
  return traces.resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
}

describe('OTLP export', () => {
  it('exports a run paused and resumed as one trace of agent, chat and tool spans', async () => {
    const reopened = await openStore({ home });
    const events = await reopened.audit.list(runId);
    await reopened.close();
    const spans = spansOf(toOtlp([{ runId, events }], '0.1.0'));
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([traceIdOf(runId)]));
    const root = spans.find((span) => span.name === 'invoke_agent warden');
    expect(root?.attributes).toContainEqual({ key: 'gen_ai.conversation.id', value: { stringValue: runId } });
    expect(spans.filter((span) => span.parentSpanId !== root?.spanId)).toEqual([root]);
    expect(
      spans.some(
        (span) =>
          span.name.startsWith('chat ') && span.attributes.some((a) => a.key === 'gen_ai.usage.input_tokens'),
      ),
    ).toBe(true);
    const isolate = spans.filter((span) => span.name === 'execute_tool edr.isolate_host');
    expect(isolate.length).toBeGreaterThanOrEqual(1);
    expect(isolate[0]?.attributes).toContainEqual({
      key: 'warden.policy.version',
      value: { stringValue: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    const approvalEvents = isolate.flatMap((span) => span.events.map((event) => event.name));
    expect(approvalEvents).toEqual(
      expect.arrayContaining(['warden.tool-approval-request', 'warden.tool-approval-response']),
    );
    const kill = spans.filter((span) => span.name === 'execute_tool edr.kill_process');
    expect(kill.some((span) => span.status.code === 2)).toBe(true);
    for (const span of spans)
      expect(BigInt(span.endTimeUnixNano) >= BigInt(span.startTimeUnixNano)).toBe(true);
  });

  it('posts OTLP/JSON to a collector over HTTP', async () => {
    const bodies: string[] = [];
    const collector = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        bodies.push(body);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    const lines: string[] = [];
    try {
      await exportAudit({ config, configPath: null, home, out: (line) => lines.push(line) }, [runId], {
        endpoint: `http://127.0.0.1:${port}/v1/traces`,
      });
    } finally {
      collector.close();
    }
    expect(lines[0]).toMatch(/sent \d+ spans/);
    const posted = JSON.parse(bodies[0] ?? '{}') as OtlpTraces;
    expect(spansOf(posted).length).toBeGreaterThan(5);
  });
});

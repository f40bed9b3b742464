import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallContext, createGateway, type Gateway } from '../../../src/capability/gateway/index.js';
import { serveBundledHttp } from '../../../src/capability/servers/index.js';
import { configSchema } from '../../../src/config/index.js';
import { decideApproval, loadAssets, sampleInventoryPath } from '../../../src/control/index.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { linkedConnection, tempHome, tsxArgs } from '../../helpers.js';

const RUN = 'run-gateway-test';
let home: string;
let store: Store;
let gateway: Gateway;
let http: { url: string; close(): Promise<void> };
let callNumber = 0;

function context(extra: Partial<CallContext> = {}): CallContext {
  callNumber++;
  return {
    runId: RUN,
    callId: `call_${callNumber}`,
    audit: (type, data) => store.audit.append(RUN, type, data, new Date().toISOString()),
    approvals: store.approvals,
    now: () => new Date(),
    toolCallsSoFar: 0,
    actionsSoFar: { reversible: 0, destructive: 0 },
    ...extra,
  };
}

async function auditTypes(since: number): Promise<string[]> {
  return (await store.audit.list(RUN)).slice(since).map((event) => event.type);
}

beforeAll(async () => {
  home = tempHome();
  store = await openStore({ home });
  await store.runs.create({
    id: RUN,
    alertId: 'a-1',
    alertTitle: 't',
    provider: 'test',
    state: null,
    at: new Date().toISOString(),
  });
  http = await serveBundledHttp('intel', { home, host: '127.0.0.1', port: 0 });
  const config = configSchema.parse({
    servers: {
      siem: { bundled: 'siem', transport: 'memory' },
      edr: { bundled: 'edr', transport: 'memory' },
      ticket: { bundled: 'ticket', transport: 'memory' },
      intel: { url: http.url, bundled: 'intel' },
      vendor: { command: process.execPath, args: tsxArgs('test/fixtures/external-server.ts', home) },
    },
    tiers: { 'vendor.lookup': 'read', 'vendor.broken': 'read', 'intel.*': 'read' },
    policy: { deny: ['ticket.update_status'] },
  });
  gateway = await createGateway({ config, home });
});

afterAll(async () => {
  await gateway?.close();
  await http?.close();
  await store?.close();
});

describe('gateway', () => {
  it('names every tool server.tool with Warden’s tier, never the server’s annotations', () => {
    const tier = (name: string) => gateway.tools.find((tool) => tool.name === name);
    expect(tier('siem.search_events')).toMatchObject({ tier: 'read', tierSource: 'bundled-default' });
    expect(tier('edr.isolate_host')).toMatchObject({ tier: 'destructive' });
    expect(tier('ticket.create_ticket')).toMatchObject({ tier: 'reversible' });
    expect(tier('intel.lookup_indicator')).toMatchObject({ tier: 'read', tierSource: 'config' });
    expect(tier('vendor.lookup')).toMatchObject({ tier: 'read', tierSource: 'config' });
    // Claims readOnlyHint, but nobody classified it: destructive.
    expect(tier('vendor.wipe_disk')).toMatchObject({ tier: 'destructive', tierSource: 'unclassified' });
  });

  it('allows a read, runs it through MCP and audits request, decision and result', async () => {
    const before = (await store.audit.list(RUN)).length;
    const outcome = await gateway.call(context(), 'siem.search_events', {
      host: 'nonexistent-host',
      limit: 5,
    });
    expect(outcome).toMatchObject({ type: 'executed', isError: false, value: { events: [], total: 0 } });
    // The run's first call to siem mints its standing credential for siem.
    expect(await auditTypes(before)).toEqual([
      'tool-call-request',
      'policy-decision',
      'credential-mint',
      'tool-call-result',
    ]);
  });

  it('reaches a server over Streamable HTTP', async () => {
    const outcome = await gateway.call(context(), 'intel.lookup_indicator', { value: '127.0.0.1' });
    expect(outcome.type).toBe('executed');
    expect(outcome.type === 'executed' && (outcome.value as { value: string }).value).toBe('127.0.0.1');
  });

  it('denies a tool on the deny list without calling it', async () => {
    const created = await gateway.call(context(), 'ticket.create_ticket', {
      title: 'x',
      severity: 'low',
      body: 'y',
    });
    expect(created.type).toBe('executed');
    const id = (created as { value: { ticket: { id: string } } }).value.ticket.id;
    const outcome = await gateway.call(context(), 'ticket.update_status', { id, status: 'closed' });
    expect(outcome).toMatchObject({ type: 'denied', reason: expect.stringMatching(/policy\.deny/) });
    const ticket = await gateway.call(context(), 'ticket.get_ticket', { id });
    expect((ticket as { value: { ticket: { status: string } } }).value.ticket.status).toBe('open');
  });

  it('holds destructive calls for approval; only a matching, approved, unused receipt executes them', async () => {
    const args = { host: 'WKS-TEST-01', reason: 'test' };
    const held = await gateway.call(context(), 'vendor.wipe_disk', args);
    expect(held.type).toBe('approval_required');
    if (held.type !== 'approval_required') return;
    expect(existsSync(join(home, 'wiped.log'))).toBe(false);
    expect(held.approval).toMatchObject({ status: 'pending', tool: 'vendor.wipe_disk', runId: RUN });

    const unapproved = await gateway.call(context({ receipt: held.approval.id }), 'vendor.wipe_disk', args);
    expect(unapproved).toMatchObject({
      type: 'denied',
      reason: expect.stringMatching(/pending, not approved/),
    });

    await decideApproval(store.approvals, {
      approvalId: held.approval.id,
      status: 'approved',
      by: 'alice',
      note: null,
      now: new Date(),
    });
    const changed = await gateway.call(context({ receipt: held.approval.id }), 'vendor.wipe_disk', {
      ...args,
      host: 'DC01',
    });
    expect(changed).toMatchObject({ type: 'denied', reason: expect.stringMatching(/other arguments/) });
    expect(existsSync(join(home, 'wiped.log'))).toBe(false);

    const executed = await gateway.call(context({ receipt: held.approval.id }), 'vendor.wipe_disk', args);
    expect(executed).toMatchObject({ type: 'executed', isError: false });
    expect(readFileSync(join(home, 'wiped.log'), 'utf8')).toBe('WKS-TEST-01\n');

    const replayed = await gateway.call(context({ receipt: held.approval.id }), 'vendor.wipe_disk', args);
    expect(replayed).toMatchObject({ type: 'denied', reason: expect.stringMatching(/already used/) });
    expect(readFileSync(join(home, 'wiped.log'), 'utf8')).toBe('WKS-TEST-01\n');
  });

  it('denies a receipt issued in another run', async () => {
    const held = await gateway.call(context(), 'edr.isolate_host', { host: 'WKS-TEST-02', reason: 'test' });
    if (held.type !== 'approval_required') throw new Error(`expected approval_required, got ${held.type}`);
    await decideApproval(store.approvals, {
      approvalId: held.approval.id,
      status: 'approved',
      by: 'bob',
      note: null,
      now: new Date(),
    });
    const other = await gateway.call(
      context({ runId: 'run-someone-else', receipt: held.approval.id }),
      'edr.isolate_host',
      { host: 'WKS-TEST-02', reason: 'test' },
    );
    expect(other).toMatchObject({
      type: 'denied',
      reason: expect.stringMatching(/issued for edr.isolate_host in run run-gateway-test/),
    });
  });

  it('turns a tool failure into an error result, audited, without throwing', async () => {
    const outcome = await gateway.call(context(), 'vendor.broken', {});
    expect(outcome).toMatchObject({
      type: 'executed',
      isError: true,
      value: { error: 'tool_error', message: expect.stringMatching(/count/) },
    });
    const last = (await store.audit.list(RUN)).at(-1);
    expect(last).toMatchObject({ type: 'tool-call-result', data: { tool: 'vendor.broken', isError: true } });
  });

  it('denies unknown tools and calls past the budget', async () => {
    expect(await gateway.call(context(), 'edr.format_c', {})).toMatchObject({
      type: 'denied',
      reason: expect.stringMatching(/unknown tool/),
    });
    expect(await gateway.call(context({ toolCallsSoFar: 10_000 }), 'siem.search_events', {})).toMatchObject({
      type: 'denied',
      reason: expect.stringMatching(/maxToolCalls/),
    });
  });
});

describe('gateway connection errors', () => {
  it('names the server and the config key when a server cannot start', async () => {
    const config = configSchema.parse({ servers: { ghost: { command: '/nonexistent/binary' } } });
    await expect(createGateway({ config, home })).rejects.toThrow(
      /server ghost .*servers\.ghost in warden\.yaml/,
    );
  });
});

describe('gateway and a server that breaks the protocol', () => {
  it('rejects structured content that does not match the declared output schema', async () => {
    const server = new Server({ name: 'liar', version: '1' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [
        {
          name: 'count',
          inputSchema: { type: 'object' },
          outputSchema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
        },
      ],
    }));
    server.setRequestHandler(CallToolRequestSchema, async () => ({
      content: [],
      structuredContent: { n: 'many' },
    }));
    const liar = await createGateway({
      config: configSchema.parse({ servers: {}, tiers: { 'liar.*': 'read' } }),
      home,
      connections: [await linkedConnection('liar', server)],
    });
    const outcome = await liar.call(context(), 'liar.count', {});
    expect(outcome).toMatchObject({
      type: 'executed',
      isError: true,
      value: { error: 'tool_failed', message: expect.stringMatching(/liar\.count failed/) },
    });
    await liar.close();
  });
});

describe('destructive actions on critical assets', () => {
  it('need two distinct approvers before the receipt executes, and one elsewhere', async () => {
    const critical = await createGateway({
      config: configSchema.parse({ servers: { edr: { bundled: 'edr', transport: 'memory' } } }),
      home,
      assets: loadAssets({
        inventory: sampleInventoryPath,
        hosts: { 'FIN-WS01.harbourline.local': 'medium' },
      }),
    });
    try {
      const onDc = await critical.call(context(), 'edr.isolate_host', { host: 'DC01', reason: 'test' });
      if (onDc.type !== 'approval_required') throw new Error(`expected approval_required, got ${onDc.type}`);
      expect(onDc.approval).toMatchObject({ requiredApprovers: 2 });
      expect(onDc.approval.reason).toMatch(
        /critical asset: two distinct people approve \[critical-asset-two-approvers\]/,
      );
      const onWorkstation = await critical.call(context(), 'edr.isolate_host', {
        host: 'FIN-WS01',
        reason: 'test',
      });
      expect(onWorkstation.type === 'approval_required' && onWorkstation.approval.requiredApprovers).toBe(1);

      const decide = (by: string) =>
        decideApproval(store.approvals, {
          approvalId: onDc.approval.id,
          status: 'approved',
          by,
          note: null,
          now: new Date(),
        });
      expect((await decide('alice')).status).toBe('pending');
      await expect(decide('alice')).rejects.toThrow(
        /alice has already approved .* needs 2 distinct approvers/,
      );
      const early = await critical.call(context({ receipt: onDc.approval.id }), 'edr.isolate_host', {
        host: 'DC01',
        reason: 'test',
      });
      expect(early).toMatchObject({ type: 'denied', reason: expect.stringMatching(/pending, not approved/) });
      expect((await decide('bob')).status).toBe('approved');
      const executed = await critical.call(context({ receipt: onDc.approval.id }), 'edr.isolate_host', {
        host: 'DC01',
        reason: 'test',
      });
      expect(executed).toMatchObject({ type: 'executed', isError: false });
    } finally {
      await critical.close();
    }
  });
});

describe('destructive IAM actions on critical identities', () => {
  it('need criticalApprovers people for domain admins, service and break-glass accounts, one elsewhere', async () => {
    const iam = await createGateway({
      config: configSchema.parse({
        servers: { iam: { bundled: 'iam', transport: 'memory' } },
        approvals: { criticalApprovers: 3 },
      }),
      home,
      assets: loadAssets({
        inventory: sampleInventoryPath,
        hosts: {},
        users: { 'svc_*': 'critical', 'HARBOURLINE\\j.lindqvist': 'high' },
      }),
    });
    const approversFor = async (tool: string, user: string) => {
      const outcome = await iam.call(context(), tool, { user, reason: 'test' });
      if (outcome.type !== 'approval_required')
        throw new Error(`expected approval_required, got ${outcome.type}`);
      return outcome.approval;
    };
    try {
      // A member of HARBOURLINE\Domain Admins in the inventory, written three ways.
      const admin = await approversFor('iam.disable_user', 'HARBOURLINE\\d.reyes');
      expect(admin.requiredApprovers).toBe(3);
      expect(admin.reason).toMatch(
        /HARBOURLINE\\d\.reyes is a critical identity, so approvals\.criticalApprovers \(3\) distinct people must approve/,
      );
      expect((await approversFor('iam.revoke_sessions', 'd.reyes@harbourline.local')).requiredApprovers).toBe(
        3,
      );
      expect((await approversFor('iam.disable_user', 'D.Reyes')).requiredApprovers).toBe(3);
      // Glob from config; break-glass glob from the inventory.
      expect((await approversFor('iam.disable_user', 'svc_sql')).requiredApprovers).toBe(3);
      expect((await approversFor('iam.disable_user', 'HARBOURLINE\\breakglass01')).requiredApprovers).toBe(3);
      // An ordinary user, and one only marked high.
      expect((await approversFor('iam.disable_user', 'HARBOURLINE\\m.okafor')).requiredApprovers).toBe(1);
      expect((await approversFor('iam.disable_user', 'j.lindqvist')).requiredApprovers).toBe(1);
      // Reads of critical identities are not held at all.
      expect((await iam.call(context(), 'iam.get_user', { user: 'HARBOURLINE\\d.reyes' })).type).toBe(
        'executed',
      );
    } finally {
      await iam.close();
    }
  });
});

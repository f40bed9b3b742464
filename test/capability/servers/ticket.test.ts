import { describe, expect, it } from 'vitest';
import type { Ticket } from '../../../src/capability/backends/types.js';
import { createTicketServer } from '../../../src/capability/servers/index.js';
import { loadSampleLab } from '../../../src/lab/index.js';
import { useTempHome } from '../../lab/helpers.js';
import { callError, callOk, connect, expectTools } from './client.js';

const tempHome = useTempHome();
const ticketsFor = (home: string) => connect(createTicketServer(loadSampleLab(home).tickets));

describe('ticket MCP server', () => {
  it('lists its tools; reads are read-only and writes are not', async () => {
    const { tools } = await ticketsFor(tempHome());
    expectTools(tools, ['create_ticket', 'get_ticket', 'list_tickets', 'add_comment', 'update_status']);
    const readOnly = Object.fromEntries(tools.map((tool) => [tool.name, tool.annotations?.readOnlyHint]));
    expect(readOnly).toEqual({
      create_ticket: false,
      get_ticket: true,
      list_tickets: true,
      add_comment: false,
      update_status: false,
    });
  });

  it('creates a ticket that a fresh backend instance lists, comments on and closes', async () => {
    const home = tempHome();
    const { client } = await ticketsFor(home);
    const { ticket } = await callOk<{ ticket: Ticket }>(client, 'create_ticket', {
      title: 'Mshta → encoded PowerShell on FIN-WS01',
      severity: 'high',
      body: 'Beaconing to 203.0.113.47; recommend isolation.',
      alertId: 'a-20261118-0001',
      runId: 'run-1',
    });
    expect(ticket).toMatchObject({
      id: 'TKT-0001',
      status: 'open',
      severity: 'high',
      alertId: 'a-20261118-0001',
      runId: 'run-1',
      comments: [],
    });

    const fresh = (await ticketsFor(home)).client;
    const { tickets } = await callOk<{ tickets: Ticket[] }>(fresh, 'list_tickets', { status: 'open' });
    expect(tickets.map((listed) => listed.title)).toEqual(['Mshta → encoded PowerShell on FIN-WS01']);
    await callOk(fresh, 'add_comment', { id: ticket.id, text: 'FIN-WS01 isolated' });
    const closed = await callOk<{ ticket: Ticket }>(fresh, 'update_status', {
      id: ticket.id,
      status: 'closed',
      resolution: 'true positive, contained',
    });
    expect(closed.ticket).toMatchObject({
      status: 'closed',
      resolution: 'true positive, contained',
      comments: [{ text: 'FIN-WS01 isolated' }],
    });
    const read = await callOk<{ ticket: Ticket }>(client, 'get_ticket', { id: ticket.id });
    expect(read.ticket.status).toBe('closed');
    expect((await callOk<{ tickets: Ticket[] }>(client, 'list_tickets', { status: 'open' })).tickets).toEqual(
      [],
    );
  });

  it('returns readable errors for unknown tickets and invalid values', async () => {
    const { client } = await ticketsFor(tempHome());
    expect(await callError(client, 'get_ticket', { id: 'TKT-9999' })).toContain(
      'no ticket with id "TKT-9999"',
    );
    expect(await callError(client, 'add_comment', { id: 'TKT-9999', text: 'x' })).toContain('no ticket');
    expect(await callError(client, 'update_status', { id: 'TKT-9999', status: 'closed' })).toContain(
      'no ticket',
    );
    expect(await callError(client, 'create_ticket', { title: 't', severity: 'urgent', body: 'b' })).toMatch(
      /severity/,
    );
  });
});

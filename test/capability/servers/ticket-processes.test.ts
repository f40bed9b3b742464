import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Ticket } from '../../../src/capability/backends/types.js';
import { createTicketServer } from '../../../src/capability/servers/index.js';
import { createTicketStore } from '../../../src/lab/index.js';
import { useTempHome } from '../../lab/helpers.js';
import { callOk, connect } from './client.js';

const run = promisify(execFile);
const ticketsModule = fileURLToPath(new URL('../../../src/lab/tickets.ts', import.meta.url));
const tempHome = useTempHome();

/** A separate Node process (as a second triage process would be) that creates `count` tickets. */
async function createInChild(dir: string, prefix: string, count: number): Promise<string[]> {
  const script = `
    const { createTicketStore } = await import(${JSON.stringify(ticketsModule)});
    const store = createTicketStore({ dir: process.argv[1] });
    const ids = [];
    for (let index = 0; index < ${count}; index += 1) {
      const ticket = await store.createTicket({ title: process.argv[2] + ' ' + index, severity: 'medium', body: 'from pid ' + process.pid });
      ids.push(ticket.id);
    }
    console.log(JSON.stringify(ids));
  `;
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, dir, prefix],
    { timeout: 60_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as string[];
}

describe('ticket store across processes', () => {
  it('reads, through the MCP server, a ticket another process created', async () => {
    const dir = `${tempHome()}/tickets`;
    const [id] = await createInChild(dir, 'child ticket', 1);
    expect(id).toBe('TKT-0001');
    const { client } = await connect(createTicketServer(createTicketStore({ dir })));
    const { ticket } = await callOk<{ ticket: Ticket }>(client, 'get_ticket', { id: 'tkt-0001' });
    expect(ticket).toMatchObject({
      id: 'TKT-0001',
      title: 'child ticket 0',
      status: 'open',
      severity: 'medium',
    });
    expect(ticket.body).toMatch(/^from pid \d+$/);
    expect(ticket.body).not.toBe(`from pid ${process.pid}`);
  });

  it('lands every ticket of two processes creating at once, with distinct ids', async () => {
    const dir = `${tempHome()}/tickets`;
    // Create the database first so both children race on tickets, not on initdb.
    await createTicketStore({ dir }).listTickets({ limit: 1 });
    const [first, second] = await Promise.all([
      createInChild(dir, 'alpha', 4),
      createInChild(dir, 'bravo', 4),
    ]);
    const ids = [...(first ?? []), ...(second ?? [])];
    expect(ids).toHaveLength(8);
    expect(new Set(ids).size).toBe(8);
    const listed = await createTicketStore({ dir }).listTickets({ limit: 50 });
    expect(listed.map((ticket) => ticket.id).sort()).toEqual([...ids].sort());
    expect(listed.filter((ticket) => ticket.title.startsWith('alpha'))).toHaveLength(4);
    expect(listed.map((ticket) => ticket.id)).toEqual(
      Array.from({ length: 8 }, (_, index) => `TKT-${String(8 - index).padStart(4, '0')}`),
    );
  });

  it('escapes text Postgres cannot store, and round-trips it', async () => {
    const store = createTicketStore({ dir: `${tempHome()}/tickets` });
    const body = 'null byte \u0000 and a lone surrogate \ud800 survive';
    const ticket = await store.createTicket({ title: 't', severity: 'low', body });
    const commented = await store.addComment(ticket.id, 'comment \u0000');
    expect((await store.getTicket(ticket.id))?.body).toBe(body);
    expect(commented.comments).toEqual([{ at: expect.any(String), text: 'comment \u0000' }]);
  });
});

import { join } from 'node:path';
import { z } from 'zod';
import type { Ticket, TicketBackend } from '../capability/backends/types.js';
import { StateError } from '../errors.js';
import { jsonFile } from './state.js';

const ticketSchema = z.object({
  id: z.string(),
  title: z.string(),
  severity: z.enum(['informational', 'low', 'medium', 'high', 'critical']),
  status: z.enum(['open', 'in_progress', 'closed']),
  body: z.string(),
  alertId: z.string().nullable(),
  runId: z.string().nullable(),
  resolution: z.string().nullable(),
  comments: z.array(z.object({ at: z.string(), text: z.string() })),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const ticketFileSchema = z.object({
  nextNumber: z.number().int().positive(),
  tickets: z.array(ticketSchema),
});
type TicketFile = z.infer<typeof ticketFileSchema>;

/** A ticketing system persisted in `<stateDir>/tickets.json`, shared by every process of a home. */
export function createLabTickets(stateDir: string, now: () => Date): TicketBackend {
  const file = jsonFile(
    join(stateDir, 'tickets.json'),
    ticketFileSchema,
    (): TicketFile => ({
      nextNumber: 1,
      tickets: [],
    }),
  );

  function mustFind(state: TicketFile, id: string): Ticket {
    const ticket = state.tickets.find((candidate) => candidate.id.toLowerCase() === id.trim().toLowerCase());
    if (!ticket) throw new StateError(`no ticket with id "${id}"`);
    return ticket;
  }

  return {
    createTicket: (input) =>
      file.update((state) => {
        const at = now().toISOString();
        const ticket: Ticket = {
          id: `TKT-${String(state.nextNumber).padStart(4, '0')}`,
          title: input.title,
          severity: input.severity,
          status: 'open',
          body: input.body,
          alertId: input.alertId ?? null,
          runId: input.runId ?? null,
          resolution: null,
          comments: [],
          createdAt: at,
          updatedAt: at,
        };
        state.nextNumber += 1;
        state.tickets.push(ticket);
        return ticket;
      }),

    async getTicket(id) {
      const ticket = file
        .read()
        .tickets.find((candidate) => candidate.id.toLowerCase() === id.trim().toLowerCase());
      return ticket ?? null;
    },

    async listTickets(query) {
      const tickets = file.read().tickets.filter((ticket) => !query.status || ticket.status === query.status);
      return tickets.reverse().slice(0, query.limit);
    },

    addComment: (id, text) =>
      file.update((state) => {
        const ticket = mustFind(state, id);
        const at = now().toISOString();
        ticket.comments.push({ at, text });
        ticket.updatedAt = at;
        return ticket;
      }),

    updateStatus: (id, status, resolution) =>
      file.update((state) => {
        const ticket = mustFind(state, id);
        ticket.status = status;
        if (resolution !== undefined) ticket.resolution = resolution;
        ticket.updatedAt = now().toISOString();
        return ticket;
      }),
  };
}

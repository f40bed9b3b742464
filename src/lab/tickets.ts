import { dirname, join } from 'node:path';
import type { Ticket, TicketBackend, TicketSeverity, TicketStatus } from '../capability/backends/types.js';
import { StateError } from '../errors.js';
import type { Migration, Sql } from '../store/index.js';
import { createEmbeddedDatabase } from '../store/index.js';

/** Append-only: never edit a released migration, add the next version instead. */
export const ticketMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'tickets',
    sql: `
      CREATE SEQUENCE ticket_numbers;
      CREATE TABLE tickets (
        number integer PRIMARY KEY,
        id text NOT NULL UNIQUE,
        title text NOT NULL,
        severity text NOT NULL CHECK (severity IN ('informational', 'low', 'medium', 'high', 'critical')),
        status text NOT NULL CHECK (status IN ('open', 'in_progress', 'closed')),
        body text NOT NULL,
        alert_id text,
        run_id text,
        resolution text,
        comments jsonb NOT NULL DEFAULT '[]'::jsonb,
        -- text, not timestamptz: returned exactly as the clock wrote them
        created_at text NOT NULL,
        updated_at text NOT NULL
      );
      CREATE INDEX tickets_status_number_idx ON tickets (status, number DESC);
    `,
  },
];

export interface TicketStoreOptions {
  /** Directory of the ticket database (`<home>/tickets`); the PGlite data dir is `<dir>/db`. */
  dir: string;
  now?: () => Date;
  /** How long a call waits for other processes' ticket calls; default 15000. */
  lockTimeoutMs?: number;
}

interface TicketRow {
  id: string;
  title: string;
  severity: TicketSeverity;
  status: TicketStatus;
  body: string;
  alert_id: string | null;
  run_id: string | null;
  resolution: string | null;
  comments: Array<{ at: string; text: string }>;
  created_at: string;
  updated_at: string;
}

const COLUMNS =
  'id, title, severity, status, body, alert_id, run_id, resolution, comments, created_at, updated_at';

function toTicket(row: TicketRow): Ticket {
  return {
    id: row.id,
    title: row.title,
    severity: row.severity,
    status: row.status,
    body: row.body,
    alertId: row.alert_id,
    runId: row.run_id,
    resolution: row.resolution,
    comments: row.comments,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Tickets in a PGlite database shared by every process of a Warden home. Each call locks, opens,
 * runs one transaction and closes (about 0.2 s), so many triage processes can each run a ticket server.
 */
export function createTicketStore(options: TicketStoreOptions): TicketBackend {
  const database = createEmbeddedDatabase({
    dir: options.dir,
    migrations: ticketMigrations,
    lockTimeoutMs: options.lockTimeoutMs,
  });
  const now = options.now ?? (() => new Date());

  async function mustUpdate(sql: Sql, id: string, assignments: string, params: unknown[]): Promise<Ticket> {
    const rows = await sql.query<TicketRow>(
      `UPDATE tickets SET ${assignments} WHERE id = upper(trim($1)) RETURNING ${COLUMNS}`,
      [id, ...params],
    );
    const row = rows[0];
    if (!row) throw new StateError(`no ticket with id "${id}"`);
    return toTicket(row);
  }

  return {
    createTicket: (input) =>
      database.run(async (sql) => {
        const [next] = await sql.query<{ number: number }>(
          "SELECT nextval('ticket_numbers')::integer AS number",
        );
        const number = next?.number ?? 1;
        const at = now().toISOString();
        const rows = await sql.query<TicketRow>(
          `INSERT INTO tickets (number, id, title, severity, status, body, alert_id, run_id, created_at, updated_at)
           VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $8) RETURNING ${COLUMNS}`,
          [
            number,
            `TKT-${String(number).padStart(4, '0')}`,
            input.title,
            input.severity,
            input.body,
            input.alertId ?? null,
            input.runId ?? null,
            at,
          ],
        );
        return toTicket(rows[0]!);
      }),

    getTicket: (id) =>
      database.run(async (sql) => {
        const rows = await sql.query<TicketRow>(`SELECT ${COLUMNS} FROM tickets WHERE id = upper(trim($1))`, [
          id,
        ]);
        return rows[0] ? toTicket(rows[0]) : null;
      }),

    listTickets: (query) =>
      database.run(async (sql) => {
        const rows = await sql.query<TicketRow>(
          `SELECT ${COLUMNS} FROM tickets WHERE ($1::text IS NULL OR status = $1) ORDER BY number DESC LIMIT $2`,
          [query.status ?? null, query.limit],
        );
        return rows.map(toTicket);
      }),

    addComment: (id, text) =>
      database.run((sql) => {
        const at = now().toISOString();
        return mustUpdate(sql, id, 'comments = comments || $2::jsonb, updated_at = $3', [[{ at, text }], at]);
      }),

    updateStatus: (id, status, resolution) =>
      database.run((sql) =>
        mustUpdate(sql, id, 'status = $2, resolution = coalesce($3, resolution), updated_at = $4', [
          status,
          resolution ?? null,
          now().toISOString(),
        ]),
      ),
  };
}

/**
 * The lab's tickets for the Warden home whose lab state dir is `stateDir` (`<home>/lab`): the
 * database lives in `<home>/tickets`. Kept for `loadSampleLab`; new code calls `createTicketStore`.
 */
export function createLabTickets(stateDir: string, now: () => Date): TicketBackend {
  return createTicketStore({ dir: join(dirname(stateDir), 'tickets'), now });
}

import { pino } from 'pino';

/** Structured debug log on stderr (stdout of a stdio MCP server is the protocol). Not the audit trail. */
export const logger = pino(
  { name: 'warden', level: process.env.WARDEN_LOG_LEVEL ?? 'warn', base: { pid: process.pid } },
  pino.destination(2),
);

import { z } from 'zod';
import type {
  EventAction,
  LabEvent,
  LogonRecord,
  NetworkConnection,
  ProcessNode,
  ResponseOutcome,
  Ticket,
} from '../backends/types.js';
import { countableFields } from '../backends/types.js';

/** Zod mirrors of the backend result types (checked with `satisfies`), used as MCP output schemas. */

export const eventActions = [
  'process_start',
  'process_end',
  'network_connection',
  'dns_query',
  'file_create',
  'registry_set',
  'image_load',
  'process_access',
  'logon',
  'logon_failed',
  'script_block',
  'other',
] as const satisfies readonly EventAction[];

export const eventActionSchema = z.enum(eventActions);
export const countableFieldSchema = z.enum(countableFields);

const processRefSchema = z.object({
  guid: z.string(),
  pid: z.number(),
  image: z.string(),
  commandLine: z.string(),
});

export const labEventSchema = z.object({
  id: z.string(),
  timestamp: z.string(),
  host: z.string(),
  user: z.string().nullable(),
  eventCode: z.number(),
  channel: z.string(),
  action: eventActionSchema,
  process: processRefSchema.nullable(),
  parent: processRefSchema.nullable(),
  network: z
    .object({
      protocol: z.string(),
      sourceIp: z.string(),
      sourcePort: z.number(),
      destinationIp: z.string(),
      destinationPort: z.number(),
      destinationHostname: z.string().nullable(),
    })
    .nullable(),
  dns: z.object({ query: z.string(), answers: z.array(z.string()) }).nullable(),
  file: z.object({ path: z.string() }).nullable(),
  registry: z.object({ key: z.string(), value: z.string().nullable() }).nullable(),
  logon: z.object({ type: z.number(), sourceIp: z.string().nullable() }).nullable(),
  message: z.string().nullable(),
  raw: z.record(z.string(), z.unknown()),
}) satisfies z.ZodType<LabEvent>;

export const logonRecordSchema = z.object({
  timestamp: z.string(),
  host: z.string(),
  user: z.string(),
  outcome: z.enum(['success', 'failure']),
  logonType: z.number(),
  sourceIp: z.string().nullable(),
  eventId: z.string(),
}) satisfies z.ZodType<LogonRecord>;

export const processNodeSchema = z.object({
  guid: z.string(),
  pid: z.number(),
  parentGuid: z.string().nullable(),
  host: z.string(),
  user: z.string().nullable(),
  image: z.string(),
  commandLine: z.string(),
  startTime: z.string(),
  eventId: z.string(),
}) satisfies z.ZodType<ProcessNode>;

export const networkConnectionSchema = z.object({
  timestamp: z.string(),
  host: z.string(),
  processGuid: z.string().nullable(),
  image: z.string().nullable(),
  protocol: z.string(),
  sourceIp: z.string(),
  sourcePort: z.number(),
  destinationIp: z.string(),
  destinationPort: z.number(),
  destinationHostname: z.string().nullable(),
  eventId: z.string(),
}) satisfies z.ZodType<NetworkConnection>;

export const responseOutcomeSchema = z.object({
  host: z.string(),
  changed: z.boolean(),
  state: z.enum(['isolated', 'released', 'killed', 'not_running']),
  at: z.string(),
  detail: z.string(),
}) satisfies z.ZodType<ResponseOutcome>;

export const indicatorTypeSchema = z.enum(['ip', 'domain', 'url', 'hash']);

export const ticketStatusSchema = z.enum(['open', 'in_progress', 'closed']);
export const ticketSeveritySchema = z.enum(['informational', 'low', 'medium', 'high', 'critical']);

export const ticketSchema = z.object({
  id: z.string(),
  title: z.string(),
  severity: ticketSeveritySchema,
  status: ticketStatusSchema,
  body: z.string(),
  alertId: z.string().nullable(),
  runId: z.string().nullable(),
  resolution: z.string().nullable(),
  comments: z.array(z.object({ at: z.string(), text: z.string() })),
  createdAt: z.string(),
  updatedAt: z.string(),
}) satisfies z.ZodType<Ticket>;

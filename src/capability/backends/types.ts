/**
 * Narrow domain interfaces behind the bundled MCP servers. A backend is the lab (embedded
 * sample or loaded telemetry) or an adapter for a real product; servers only map MCP ↔ these.
 * Every string that came from telemetry is attacker-influenced and is served as data.
 */

export type EventAction =
  | 'process_start'
  | 'process_end'
  | 'network_connection'
  | 'dns_query'
  | 'file_create'
  | 'registry_set'
  | 'image_load'
  | 'process_access'
  | 'logon'
  | 'logon_failed'
  | 'script_block'
  | 'other';

export interface ProcessRef {
  guid: string;
  pid: number;
  image: string;
  commandLine: string;
}

/** One normalised (ECS-style) event. `raw` keeps the source record as recorded. */
export interface LabEvent {
  id: string;
  timestamp: string;
  host: string;
  user: string | null;
  eventCode: number;
  channel: string;
  action: EventAction;
  process: ProcessRef | null;
  parent: ProcessRef | null;
  network: {
    protocol: string;
    sourceIp: string;
    sourcePort: number;
    destinationIp: string;
    destinationPort: number;
    destinationHostname: string | null;
  } | null;
  dns: { query: string; answers: string[] } | null;
  file: { path: string } | null;
  registry: { key: string; value: string | null } | null;
  logon: { type: number; sourceIp: string | null } | null;
  message: string | null;
  raw: Record<string, unknown>;
}

/** Filters over events; every text filter is case-insensitive. */
export interface EventFilter {
  host?: string;
  user?: string;
  /** Substring of the process image path, case-insensitive. */
  process?: string;
  /** Substring of the command line, case-insensitive. */
  commandLine?: string;
  processGuid?: string;
  parentProcessGuid?: string;
  eventCode?: number;
  action?: EventAction;
  /** Free text, case-insensitive, over the command line, message and raw values. */
  text?: string;
  from?: string;
  to?: string;
}

export interface EventQuery extends EventFilter {
  limit: number;
  offset: number;
}

export interface EventPage {
  events: LabEvent[];
  total: number;
  nextOffset: number | null;
}

export const countableFields = [
  'host',
  'user',
  'eventCode',
  'action',
  'channel',
  'process.image',
  'parent.image',
  'network.destinationIp',
  'network.destinationPort',
  'dns.query',
] as const;
export type CountableField = (typeof countableFields)[number];

export interface CountQuery {
  field: CountableField;
  host?: string;
  user?: string;
  action?: EventAction;
  from?: string;
  to?: string;
  limit: number;
}

export interface CountResult {
  field: CountableField;
  buckets: Array<{ value: string; count: number }>;
  total: number;
}

export interface LogonRecord {
  timestamp: string;
  host: string;
  user: string;
  outcome: 'success' | 'failure';
  logonType: number;
  sourceIp: string | null;
  eventId: string;
}

export interface SiemBackend {
  searchEvents(query: EventQuery): Promise<EventPage>;
  getEvent(id: string): Promise<LabEvent | null>;
  countEvents(query: CountQuery): Promise<CountResult>;
  logonHistory(query: { user: string; from?: string; to?: string; limit: number }): Promise<LogonRecord[]>;
}

export interface ProcessNode {
  guid: string;
  pid: number;
  parentGuid: string | null;
  host: string;
  user: string | null;
  image: string;
  commandLine: string;
  startTime: string;
  /** Audit-friendly pointer to the event that recorded the process start. */
  eventId: string;
}

export interface ProcessTree {
  process: ProcessNode;
  /** Nearest parent first. */
  ancestors: ProcessNode[];
  /** Depth-first, each with its depth below `process` (children are depth 1). */
  descendants: Array<ProcessNode & { depth: number }>;
}

export interface NetworkConnection {
  timestamp: string;
  host: string;
  processGuid: string | null;
  image: string | null;
  protocol: string;
  sourceIp: string;
  sourcePort: number;
  destinationIp: string;
  destinationPort: number;
  destinationHostname: string | null;
  eventId: string;
}

export interface HostSummary {
  host: string;
  os: string | null;
  ip: string | null;
  criticality: 'low' | 'medium' | 'high' | 'critical';
  owner: string | null;
  role: string | null;
  isolated: boolean;
  lastSeen: string | null;
  users: string[];
  eventCount: number;
}

export interface ResponseOutcome {
  host: string;
  /** False when the endpoint was already in the requested state. */
  changed: boolean;
  state: 'isolated' | 'released' | 'killed' | 'not_running';
  at: string;
  detail: string;
}

export interface EdrBackend {
  processTree(query: { processGuid?: string; host?: string; pid?: number }): Promise<ProcessTree | null>;
  networkConnections(query: {
    processGuid?: string;
    host?: string;
    from?: string;
    to?: string;
    limit: number;
  }): Promise<NetworkConnection[]>;
  hostSummary(host: string): Promise<HostSummary | null>;
  isolateHost(host: string, reason: string): Promise<ResponseOutcome>;
  releaseHost(host: string, reason: string): Promise<ResponseOutcome>;
  killProcess(query: {
    host: string;
    processGuid?: string;
    pid?: number;
    reason: string;
  }): Promise<ResponseOutcome>;
}

export type IndicatorType = 'ip' | 'domain' | 'url' | 'hash';

export interface IndicatorMatch {
  source: string;
  family: string;
  reference: string | null;
}

export interface IndicatorVerdict {
  value: string;
  type: IndicatorType;
  verdict: 'malicious' | 'unknown';
  matches: IndicatorMatch[];
}

export interface TechniqueInfo {
  id: string;
  name: string;
  tactics: string[];
  description: string;
  url: string;
}

export interface IntelBackend {
  lookupIndicator(value: string, type?: IndicatorType): Promise<IndicatorVerdict>;
  lookupTechnique(id: string): Promise<TechniqueInfo | null>;
}

export type TicketStatus = 'open' | 'in_progress' | 'closed';
export type TicketSeverity = 'informational' | 'low' | 'medium' | 'high' | 'critical';

export interface Ticket {
  id: string;
  title: string;
  severity: TicketSeverity;
  status: TicketStatus;
  body: string;
  alertId: string | null;
  runId: string | null;
  resolution: string | null;
  comments: Array<{ at: string; text: string }>;
  createdAt: string;
  updatedAt: string;
}

export interface TicketBackend {
  createTicket(input: {
    title: string;
    severity: TicketSeverity;
    body: string;
    alertId?: string;
    runId?: string;
  }): Promise<Ticket>;
  getTicket(id: string): Promise<Ticket | null>;
  listTickets(query: { status?: TicketStatus; limit: number }): Promise<Ticket[]>;
  addComment(id: string, text: string): Promise<Ticket>;
  updateStatus(id: string, status: TicketStatus, resolution?: string): Promise<Ticket>;
}

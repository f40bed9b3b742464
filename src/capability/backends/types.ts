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

/** Activity of one process or one host over a window; give processGuid, host, or both. */
export interface ProcessActivityQuery {
  processGuid?: string;
  host?: string;
  from?: string;
  to?: string;
  limit: number;
}

export interface ImageLoad {
  timestamp: string;
  host: string;
  processGuid: string | null;
  image: string | null;
  imageLoaded: string;
  eventId: string;
}

export interface ProcessAccess {
  timestamp: string;
  host: string;
  /** The process that opened a handle to the target. */
  sourceProcessGuid: string | null;
  sourceImage: string | null;
  targetProcessGuid: string | null;
  targetPid: number | null;
  targetImage: string | null;
  /** Access mask as recorded, e.g. 0x1010 (a typical LSASS memory read). */
  grantedAccess: string | null;
  eventId: string;
}

export interface FileWrite {
  timestamp: string;
  host: string;
  processGuid: string | null;
  image: string | null;
  path: string;
  eventId: string;
}

export interface RegistryWrite {
  timestamp: string;
  host: string;
  processGuid: string | null;
  image: string | null;
  key: string;
  value: string | null;
  eventId: string;
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
  /** DLLs and other images loaded (Sysmon 7), oldest first. */
  imageLoads(query: ProcessActivityQuery): Promise<ImageLoad[]>;
  /** Handles opened to other processes (Sysmon 10); `processGuid` is the source, `targetImage` a substring. */
  processAccess(
    query: ProcessActivityQuery & { targetProcessGuid?: string; targetImage?: string },
  ): Promise<ProcessAccess[]>;
  /** Files created or overwritten (Sysmon 11), oldest first. */
  fileWrites(query: ProcessActivityQuery): Promise<FileWrite[]>;
  /** Registry keys and values set (Sysmon 12-14), oldest first. */
  registryWrites(query: ProcessActivityQuery): Promise<RegistryWrite[]>;
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
  /** Feed folder the entry came from (`malware`, `malicious`, `suspicious`), null for flat feeds. The lab always sets it. */
  category?: string | null;
  /** The listed entry that matched, e.g. the parent domain `evil.example` for `a.evil.example`. The lab always sets it. */
  matched?: string;
  /** What part of the indicator matched: the value itself, a parent domain, a CIDR range, a URL's host or path. */
  matchedOn?: IndicatorMatchKind;
}

export type IndicatorMatchKind = 'exact' | 'parent_domain' | 'cidr' | 'url_prefix' | 'url_host' | 'url_path';

export interface IndicatorVerdict {
  value: string;
  type: IndicatorType;
  /** `suspicious` when every match comes from a `suspicious` category (e.g. dynamic DNS, PUA). */
  verdict: 'malicious' | 'suspicious' | 'unknown';
  matches: IndicatorMatch[];
}

export interface TechniqueInfo {
  id: string;
  name: string;
  tactics: string[];
  description: string;
  url: string;
}

/** Where ATT&CK answers come from: the STIX bundle, or the short shipped technique list. */
export type AttackSource = 'attack-stix' | 'sample-techniques';

/** A technique as served: the short info plus what the STIX bundle adds (empty when it is absent). */
export interface TechniqueDetail extends TechniqueInfo {
  /** Parent technique id of a sub-technique, else null. */
  parent: string | null;
  platforms: string[];
  /** ATT&CK data components named by the technique's detection analytics, e.g. "Process Creation". */
  dataSources: string[];
  /** Detection strategies (`DET…` id and name) linked to the technique. */
  detections: Array<{ id: string; name: string }>;
  deprecated: boolean;
  revoked: boolean;
  /** Technique that replaced a revoked one. */
  revokedBy: string | null;
  source: AttackSource;
}

export interface AttackRef {
  id: string;
  name: string;
}

export interface GroupInfo {
  id: string;
  name: string;
  aliases: string[];
  description: string;
  url: string;
  techniques: AttackRef[];
  software: AttackRef[];
  deprecated: boolean;
  revoked: boolean;
  source: AttackSource;
}

export interface SoftwareInfo {
  id: string;
  name: string;
  type: 'malware' | 'tool';
  aliases: string[];
  platforms: string[];
  description: string;
  url: string;
  techniques: AttackRef[];
  /** Groups known to use it. */
  groups: AttackRef[];
  deprecated: boolean;
  revoked: boolean;
  source: AttackSource;
}

export interface IntelBackend {
  lookupIndicator(value: string, type?: IndicatorType): Promise<IndicatorVerdict>;
  /** By id (`T1059.001`, `attack.t1059.001`, `T1059/001`); InputError for anything else. */
  lookupTechnique(id: string): Promise<TechniqueDetail | null>;
  /** By name (`Mshta`, `Command and Scripting Interpreter: PowerShell`), case-insensitive; InputError when ambiguous. */
  findTechnique(name: string): Promise<TechniqueDetail | null>;
  /** By G-id, name or alias, case-insensitive; null when unknown or when only the sample reference is loaded. */
  lookupGroup(query: string): Promise<GroupInfo | null>;
  /** By S-id, name or alias, case-insensitive. */
  lookupSoftware(query: string): Promise<SoftwareInfo | null>;
  /** Which ATT&CK source answers (loads it when needed). */
  attackSource(): Promise<AttackSource>;
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

/** A user account seen in the telemetry, with Warden's persisted IAM state. */
export interface IamUserSummary {
  /** `DOMAIN\name` as recorded (or the bare name when the telemetry has no domain). */
  user: string;
  eventCount: number;
  hosts: string[];
  lastLogon: string | null;
  groups: string[];
  disabled: boolean;
}

export interface IamSession {
  host: string;
  logonType: number;
  sourceIp: string | null;
  since: string;
  /** The logon event that opened it. */
  eventId: string;
}

export interface IamUser extends IamUserSummary {
  disabledAt: string | null;
  disabledReason: string | null;
  sessionsRevokedAt: string | null;
  /** Successful logons recorded after the last revocation, latest per host and logon type. */
  sessions: IamSession[];
  failedLogons: number;
}

export interface IamGroup {
  name: string;
  members: string[];
  /** `telemetry`: from group-membership events; `inventory`: from the configured groups file. */
  sources: Array<'telemetry' | 'inventory'>;
  description: string | null;
}

export interface IamOutcome {
  user: string;
  /** False when the account was already in the requested state. */
  changed: boolean;
  state: 'disabled' | 'enabled' | 'sessions_revoked';
  at: string;
  detail: string;
  /** Sessions ended by `revoke_sessions`; 0 otherwise. */
  revokedSessions: number;
}

export interface IamBackend {
  listUsers(query: { limit: number }): Promise<IamUserSummary[]>;
  getUser(user: string): Promise<IamUser | null>;
  listGroups(): Promise<IamGroup[]>;
  disableUser(user: string, reason: string): Promise<IamOutcome>;
  enableUser(user: string, reason: string): Promise<IamOutcome>;
  revokeSessions(user: string, reason: string): Promise<IamOutcome>;
}

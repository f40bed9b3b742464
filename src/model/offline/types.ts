/**
 * Shapes shared by the offline analyst's modules. The verdict is declared structurally here:
 * the model layer must not import from `src/agent`, whose zod schema validates it.
 */

export type Severity = 'informational' | 'low' | 'medium' | 'high' | 'critical';

export interface SkillEntry {
  name: string;
  description: string;
}

/** What the alert says, read defensively: every string is attacker-influenced. */
export interface AlertFacts {
  ref: string;
  id: string;
  title: string;
  severity: Severity;
  time: string | null;
  host: string | null;
  user: string | null;
  image: string | null;
  commandLine: string | null;
  processGuid: string | null;
  processId: number | null;
  parentImage: string | null;
  parentCommandLine: string | null;
  parentProcessGuid: string | null;
  /** The alerted event's id (Sysmon 10, Security 4625, ...), when the alert carries it. */
  eventId?: number | null;
  /** ATT&CK ids from the rule tags (`attack.t1218.005` → `T1218.005`). */
  techniques: string[];
  /** Non-process facts of the alerted event (registry target, access target, destination). */
  targetObject: string | null;
  /** The value the alerted event wrote (registry data), when it carries one. */
  details?: string | null;
  targetImage: string | null;
  /** The module an image-load event (Sysmon 7) names. */
  imageLoaded?: string | null;
  /** The named pipe a pipe event (Sysmon 17, 18) names. */
  pipeName?: string | null;
  destination: string | null;
  queryName: string | null;
}

export type Relation = 'focal' | 'ancestor' | 'descendant';

/** One process of the alerted lineage, merged from the alert, the EDR tree and SIEM events. */
export interface ChainProcess {
  guid: string | null;
  pid: number | null;
  parentGuid: string | null;
  image: string;
  name: string;
  commandLine: string;
  startTime: string | null;
  relation: Relation;
  /** Negative for ancestors (-1 = parent), 0 for the focal process, positive for descendants. */
  depth: number;
  refs: string[];
}

export interface Connection {
  processGuid: string | null;
  image: string | null;
  destinationIp: string;
  destinationPort: number | null;
  destinationHostname: string | null;
  ref: string;
}

export interface TelemetryEvent {
  action: string;
  processGuid: string | null;
  image: string | null;
  /** Registry key, DNS query, access target or file path: the object the event is about. */
  subject: string;
  detail: string | null;
  ref: string;
}

export interface IntelFinding {
  value: string;
  verdict: 'malicious' | 'unknown';
  families: string[];
  sources: string[];
  ref: string;
}

export interface HostContext {
  host: string;
  criticality: string;
  role: string | null;
  isolated: boolean;
  ref: string;
}

export interface ToolFailure {
  tool: string;
  purpose: string;
  error: string;
  ref: string;
}

/** Everything learnt so far, re-derived from the transcript on every call. */
export interface Observations {
  processes: ChainProcess[];
  connections: Connection[];
  /** Tools whose answer about network activity was received (EDR per process, or SIEM). */
  networkChecked: boolean;
  events: TelemetryEvent[];
  intel: IntelFinding[];
  host: HostContext | null;
  skills: Array<{ name: string; ref: string }>;
  failures: ToolFailure[];
  /** Purposes (see plan.ts) already attempted, answered or not. */
  attempted: Set<string>;
  /** Where the lineage comes from: the alert's own fields, SIEM process starts, or the EDR tree. */
  lineage: 'alert' | 'siem' | 'edr';
  /** Answers to runbook checklist steps (see checklists.ts). */
  checklist: ChecklistFinding[];
}

/** What one executed runbook checklist step found, and how it weighs (0 = reported, not scored). */
export interface ChecklistFinding {
  skill: string;
  step: string;
  question: string;
  signal: string | null;
  weight: number;
  claim: string;
  techniques: string[];
  refs: string[];
}

export interface Feature {
  id: string;
  weight: number;
  claim: string;
  refs: string[];
  techniques: string[];
  /** Keys (guid or image) of the processes the feature is about, for choosing a kill target. */
  processKeys: string[];
}

/** What feature detectors look at: the lineage in order, and each command line expanded once. */
export interface FeatureContext {
  alert: AlertFacts;
  observations: Observations;
  chain: ChainProcess[];
  expanded: Map<ChainProcess, string>;
}

export interface OfflineAction {
  tool: string;
  args: Record<string, unknown>;
  reason: string;
}

/** Structurally the verdict the loop validates with `verdictSchema` (src/agent/verdict.ts). */
export interface OfflineVerdict {
  verdict: 'malicious' | 'suspicious' | 'benign';
  confidence: number;
  summary: string;
  techniques: string[];
  evidence: Array<{ claim: string; refs: string[] }>;
  recommendedActions: OfflineAction[];
}

/**
 * Durable state of Warden itself: runs (with their serialisable loop state), approvals and
 * the audit trail. Embedded default: PGlite under `<home>/db`, one process at a time behind a
 * cross-process lock; PostgreSQL by URL later, with the same SQL.
 */

export type RunStatus = 'running' | 'awaiting_approval' | 'completed' | 'failed' | 'escalated' | 'killed';

export interface RunRecord {
  id: string;
  alertId: string;
  alertTitle: string;
  provider: string;
  status: RunStatus;
  /** Serialisable loop state, enough to resume the run in any process. */
  state: unknown;
  verdict: unknown | null;
  error: string | null;
  /** `pid@hostname` of a process waiting to resume the run itself, with its last heartbeat. */
  waiter: string | null;
  waiterHeartbeatAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

export interface ApprovalRecord {
  id: string;
  runId: string;
  tool: string;
  args: Record<string, unknown>;
  /** SHA-256 of the canonical (RFC 8785) JSON of `args`: an approval is bound to these exact arguments. */
  argsHash: string;
  tier: string;
  reason: string;
  status: ApprovalStatus;
  requestedAt: string;
  expiresAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  decisionNote: string | null;
  /** Set once, when the approved call is executed: a receipt is single-use. */
  consumedAt: string | null;
  /** Distinct people who must approve (two for destructive actions on critical assets). */
  requiredApprovers: number;
  /** Who has approved so far, in order. */
  approvers: Array<{ by: string; at: string; note: string | null }>;
  /** Content hash of the Cedar policy set that asked for this approval; a receipt is valid only under it. */
  policyVersion: string | null;
}

export interface AuditEventRecord {
  /** `<runId>:<seq>`; what evidence items cite. */
  id: string;
  runId: string;
  seq: number;
  at: string;
  type: string;
  data: unknown;
  prevHash: string;
  hash: string;
}

/**
 * One stored event as `warden audit verify` reads it: `body` is the canonical JSON of its data
 * exactly as hashed (events written since schema 3); older events carry the stored `data`. A row of
 * `chainPages` may carry `digest` instead: the hash its stored fields give (prev_hash, at, type, body,
 * with the run id and sequence number), computed from the stored bytes as the page was read.
 */
export type AuditChainRow = Omit<AuditEventRecord, 'data'> &
  ({ body: string } | { data: unknown } | { digest: string });

export interface RunStore {
  create(run: {
    id: string;
    alertId: string;
    alertTitle: string;
    provider: string;
    state: unknown;
    at: string;
  }): Promise<RunRecord>;
  get(id: string): Promise<RunRecord | null>;
  list(query: { status?: RunStatus; limit: number }): Promise<RunRecord[]>;
  update(
    id: string,
    patch: Partial<
      Pick<RunRecord, 'status' | 'state' | 'verdict' | 'error' | 'waiter' | 'waiterHeartbeatAt'>
    >,
    at: string,
  ): Promise<void>;
  /** Atomically move a run whose status is one of `from` to `running`; false when another process won. */
  claim(id: string, from: RunStatus[], at: string): Promise<boolean>;
}

export interface ApprovalStore {
  create(
    approval: Omit<
      ApprovalRecord,
      | 'status'
      | 'decidedAt'
      | 'decidedBy'
      | 'decisionNote'
      | 'consumedAt'
      | 'approvers'
      | 'requiredApprovers'
      | 'policyVersion'
    > & { requiredApprovers?: number; policyVersion?: string | null },
  ): Promise<ApprovalRecord>;
  get(id: string): Promise<ApprovalRecord | null>;
  list(query: { status?: ApprovalStatus; runId?: string; limit: number }): Promise<ApprovalRecord[]>;
  /** pending → approved | denied | expired, only while still pending; null when it was not pending. */
  decide(
    id: string,
    decision: { status: 'approved' | 'denied' | 'expired'; by: string; note: string | null; at: string },
  ): Promise<ApprovalRecord | null>;
  /**
   * Adds one person's approval to a pending action, atomically: the action becomes approved when
   * enough distinct people have approved. Null when it was not pending or this person already approved.
   */
  approve(
    id: string,
    approval: { by: string; note: string | null; at: string },
  ): Promise<ApprovalRecord | null>;
  /** Mark an approved receipt used; false when it was not approved or already used. */
  consume(id: string, at: string): Promise<boolean>;
}

/** An event numbered, hashed and queued for commit. */
export interface QueuedAuditEvent {
  /** The event as it will be stored (id, sequence number and hashes are final). */
  event: AuditEventRecord;
  /**
   * Resolves once the event is committed; rejects if its write failed. Events of a run commit in
   * order, so once one is committed every earlier one of its run is too; and if one fails, every
   * later one of its run already queued fails with it.
   */
  committed: Promise<AuditEventRecord>;
}

export interface AuditStore {
  /**
   * Appends in order with the next sequence number of the run and the hash chain; resolves once
   * the event is committed (durable: written to the audit journal, or to the database).
   */
  append(runId: string, type: string, data: unknown, at: string): Promise<AuditEventRecord>;
  /**
   * Like `append`, but resolves as soon as the event is numbered and queued, with its commit as a
   * promise beside it: for events that need not be durable before the caller goes on, as long as
   * the caller waits for a later commit (or this one) before its next side effect.
   */
  enqueue(runId: string, type: string, data: unknown, at: string): Promise<QueuedAuditEvent>;
  /**
   * Resolves once every event appended so far is in the database (reads wait for this themselves);
   * appends are durable earlier, in the audit journal.
   */
  written(): Promise<void>;
  list(runId: string): Promise<AuditEventRecord[]>;
  /** The run's chain for verification, read in pages without parsing the event data. */
  chain(runId: string): Promise<AuditChainRow[]>;
  /**
   * The same chain page by page, in order, so that a reader need not hold all of it; rows carry
   * `digest` rather than `body` where it can be computed from the stored bytes.
   */
  chainPages(runId: string): AsyncIterable<AuditChainRow[]>;
  /** Every run with at least one event, whether or not the runs table still knows it. */
  runIds(): Promise<string[]>;
}

export type AutonomyLevelName = 'suggest' | 'approve' | 'notify' | 'auto';

/** An action class's level set by a promotion or demotion (classes never changed take config/tier defaults). */
export interface AutonomyLevelRecord {
  actionClass: string;
  level: AutonomyLevelName;
  changedBy: string;
  reason: string;
  changedAt: string;
}

export interface AutonomyChangeRecord {
  actionClass: string;
  from: AutonomyLevelName;
  to: AutonomyLevelName;
  kind: 'promote' | 'demote' | 'auto-demote';
  by: string;
  reason: string;
  /** The evidence the change was made on. */
  evidence: unknown;
  at: string;
}

export interface AutonomyStore {
  levels(): Promise<AutonomyLevelRecord[]>;
  /** Moves a class from `from` to `to` with its history row, atomically; false when its level is no longer `from`. */
  change(change: AutonomyChangeRecord): Promise<boolean>;
  history(query: { actionClass?: string; limit: number }): Promise<AutonomyChangeRecord[]>;
  /** Human approvals and denials of the class's most recent `window` decided approvals. */
  humanDecisions(actionClass: string, window: number): Promise<{ approved: number; denied: number }>;
  /**
   * Analysts' reviews of actions of this class (`warden feedback --action`): agreements,
   * disagreements, and critical reversals (an executed action marked wrong and critical).
   */
  actionReviews(
    actionClass: string,
    window: number,
  ): Promise<{ agreed: number; disagreed: number; criticalReversals: number }>;
}

/** An analyst's judgement of a run's verdict, of an approval decision, or of an action. */
export interface FeedbackRecord {
  id: string;
  runId: string;
  kind: 'verdict' | 'approval' | 'action';
  /** The tool (`server.tool`) an approval or action feedback is about; null for a verdict. */
  actionClass: string | null;
  approvalId: string | null;
  /** The analyst's label, for verdict feedback. */
  verdict: 'malicious' | 'suspicious' | 'benign' | null;
  /** Did the analyst agree with the agent (its verdict, or its proposal of the action)? */
  agree: boolean;
  /** Was the action executed (for approval and action feedback)? */
  executed: boolean;
  /** An executed reversible or destructive action the analyst marked wrong: demotes its class. */
  critical: boolean;
  note: string | null;
  by: string;
  at: string;
}

export interface FeedbackStore {
  record(entry: Omit<FeedbackRecord, 'id'>): Promise<FeedbackRecord>;
  list(query: { runId?: string; limit: number }): Promise<FeedbackRecord[]>;
}

export interface Store {
  readonly runs: RunStore;
  readonly approvals: ApprovalStore;
  readonly audit: AuditStore;
  readonly autonomy: AutonomyStore;
  readonly feedback: FeedbackStore;
  close(): Promise<void>;
}

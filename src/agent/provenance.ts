/**
 * The loop's side of provenance: what the run trusts (taint state), which injection signals its
 * data raised, and the per-call taint assessment handed to the gateway. All of it lives in the
 * loop state, so it survives a pause for approval and a resume in another process.
 */
import type { AuditAppend } from '../capability/gateway/index.js';
import {
  analystRequestValues,
  assessTaint,
  classifyAll,
  type Dlp,
  describeTaint,
  emptyTaintState,
  type InjectionClassifier,
  type InjectionHit,
  leavesOf,
  partitionLeaves,
  type ResultLabels,
  type TaintState,
  trustAlert,
  trustAnalystInput,
  trustResult,
  untrustedFields,
} from '../control/index.js';
import type { Message, ModelRequest } from '../model/provider.js';
import type { Alert } from './alert.js';

export interface RunProvenance {
  taint: TaintState;
  /** Injection signals raised so far (the first 50 kept). */
  injection: InjectionHit[];
}

const MAX_HITS = 50;

export function initialProvenance(alert: Alert, request?: string): RunProvenance {
  const taint = emptyTaintState();
  trustAlert(taint, alert);
  if (request) trustAnalystInput(taint, analystRequestValues(request));
  return { taint, injection: [] };
}

/** Alert fields that are not trusted (see control/taint.ts), as text to scan for injection. */
function alertLabels(): ResultLabels {
  return { trusted: ['id', 'severity', 'time', 'source', 'host', 'user', 'rule.id', 'rule.tags.*'] };
}

async function raise(
  provenance: RunProvenance,
  hits: InjectionHit[],
  audit: AuditAppend,
  at: { callId?: string; ref: string },
): Promise<void> {
  if (hits.length === 0) return;
  await audit('injection-signal', { ...at, hits: hits.slice(0, 20) });
  provenance.injection.push(...hits.slice(0, MAX_HITS - provenance.injection.length));
}

/** Scans the alert's untrusted fields when the run starts. */
export async function scanAlert(
  provenance: RunProvenance,
  alert: Alert,
  ref: string,
  classifiers: readonly InjectionClassifier[],
  audit: AuditAppend,
): Promise<void> {
  const { untrusted } = partitionLeaves(alert, alertLabels());
  const hits = await classifyAll(classifiers, untrustedFields(`${ref}:alert`, untrusted));
  await raise(provenance, hits, audit, { ref });
}

/** Records a tool result: its trusted fields become trusted values, its untrusted text is scanned. */
export async function observeResult(
  provenance: RunProvenance,
  options: {
    callId: string;
    ref: string;
    args: Record<string, unknown>;
    value: unknown;
    labels: ResultLabels;
    classifiers: readonly InjectionClassifier[];
    audit: AuditAppend;
  },
): Promise<void> {
  trustResult(provenance.taint, options);
  const { untrusted } = partitionLeaves(options.value, options.labels);
  // A result field that only echoes what this call sent (a ticket body the run wrote) is not new
  // data: scanning it would flag Warden's own recommendations as an injection.
  const sent = new Set(leavesOf(options.args).map((leaf) => String(leaf.value)));
  const fresh = untrusted.filter((leaf) => !sent.has(String(leaf.value)));
  const hits = await classifyAll(options.classifiers, untrustedFields(options.ref, fresh));
  await raise(provenance, hits, options.audit, { callId: options.callId, ref: options.ref });
}

/** Where a value appears in the data the model was shown (`<ref>:<field>`), for the approver. */
function locate(messages: readonly Message[], value: string): string[] {
  const needle = value.trim().toLowerCase();
  if (needle.length === 0) return [];
  const found: string[] = [];
  for (const message of messages) {
    for (const block of message.content) {
      if (block.type !== 'data' && block.type !== 'tool_result') continue;
      for (const leaf of leavesOf(block.value)) {
        if (String(leaf.value).toLowerCase().includes(needle)) {
          found.push(`${block.ref}:${block.type === 'data' ? `${block.label}.` : ''}${leaf.path}`);
          if (found.length >= 3) return found;
        }
      }
    }
  }
  return found;
}

/** The taint and injection context the gateway and policy see for one call. */
export function callGuards(
  provenance: RunProvenance | undefined,
  messages: readonly Message[],
  args: Record<string, unknown>,
  inputSchema?: Record<string, unknown>,
): {
  taint?: { tainted: boolean; args: string[]; detail?: string };
  injection?: boolean;
  injectionDetail?: string;
} {
  if (!provenance) return {};
  const assessment = assessTaint(provenance.taint, args, {
    ...(inputSchema ? { inputSchema } : {}),
    findUntrusted: (value) => locate(messages, value),
  });
  const first = provenance.injection[0];
  return {
    taint: {
      tainted: assessment.tainted,
      args: assessment.args,
      ...(assessment.tainted ? { detail: describeTaint(assessment) } : {}),
    },
    ...(first
      ? {
          injection: true,
          injectionDetail: `injection signal (${provenance.injection.length}): ${first.rule} in ${first.field}: "${first.excerpt.slice(0, 120)}"`,
        }
      : {}),
  };
}

/**
 * What a model of lower clearance than Warden may see: the request's messages redacted for the
 * provider's clearance (`dlp.models`), each redaction audited. In-process providers see it all.
 */
export async function redactModelRequest(
  dlp: Dlp | undefined,
  provider: string,
  request: ModelRequest,
  audit: AuditAppend,
): Promise<ModelRequest> {
  if (!dlp) return request;
  const sink = { kind: 'model' as const, name: provider };
  const { value, redactions } = await dlp.redactForSink(request.messages, sink);
  for (const redaction of redactions) await audit('dlp-redaction', redaction);
  return redactions.length > 0 ? { ...request, messages: value } : request;
}

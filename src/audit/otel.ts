import { createHash } from 'node:crypto';
import type { AuditEventRecord } from '../store/index.js';

/**
 * The audit trail as OpenTelemetry traces (OTLP/JSON) in the GenAI semantic conventions: one
 * `invoke_agent` span per run, a `chat` span per model call and an `execute_tool` span per tool
 * call. Ids are derived from the run and event ids, so a run paused in one process and resumed
 * in another exports as one trace.
 */

type AttributeValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean };
interface Attribute {
  key: string;
  value: AttributeValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Attribute[];
  events: Array<{ timeUnixNano: string; name: string; attributes: Attribute[] }>;
  status: { code: number; message?: string };
}
export interface OtlpTraces {
  resourceSpans: Array<{
    resource: { attributes: Attribute[] };
    scopeSpans: Array<{ scope: { name: string; version: string }; spans: OtlpSpan[] }>;
  }>;
}

const SPAN_KIND_INTERNAL = 1;
const SPAN_KIND_CLIENT = 3;
const STATUS_UNSET = 0;
const STATUS_ERROR = 2;

function hexId(seed: string, bytes: number): string {
  return createHash('sha256')
    .update(seed)
    .digest('hex')
    .slice(0, bytes * 2);
}

export function traceIdOf(runId: string): string {
  return hexId(`warden-trace:${runId}`, 16);
}

function nanos(iso: string): string {
  return (BigInt(Date.parse(iso)) * 1_000_000n).toString();
}

function attribute(key: string, value: unknown): Attribute[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'boolean') return [{ key, value: { boolValue: value } }];
  if (typeof value === 'number')
    return [{ key, value: Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value } }];
  return [{ key, value: { stringValue: typeof value === 'string' ? value : JSON.stringify(value) } }];
}

type Data = Record<string, unknown>;
const dataOf = (event: AuditEventRecord) => (event.data ?? {}) as Data;

/** Converts one run's audit events to spans; a run still paused ends its spans at its last event. */
export function runToSpans(runId: string, events: readonly AuditEventRecord[]): OtlpSpan[] {
  const first = events[0];
  const last = events.at(-1);
  if (!first || !last) return [];
  const traceId = traceIdOf(runId);
  const rootId = hexId(`${runId}:root`, 8);
  const start = dataOf(first);
  const end = events.find((event) => event.type === 'run-end');
  const endData = end ? dataOf(end) : null;
  const alert = (start.alert ?? {}) as Data;
  const spans: OtlpSpan[] = [];
  const root: OtlpSpan = {
    traceId,
    spanId: rootId,
    name: 'invoke_agent warden',
    kind: SPAN_KIND_INTERNAL,
    startTimeUnixNano: nanos(first.at),
    endTimeUnixNano: nanos((end ?? last).at),
    attributes: [
      ...attribute('gen_ai.operation.name', 'invoke_agent'),
      ...attribute('gen_ai.agent.name', 'warden'),
      ...attribute('gen_ai.conversation.id', runId),
      ...attribute('gen_ai.provider.name', start.provider),
      ...attribute('warden.alert.id', alert.id),
      ...attribute('warden.alert.title', alert.title),
      ...attribute('warden.run.status', endData?.status ?? 'awaiting_approval'),
    ],
    events: [],
    status:
      endData && endData.status !== 'completed'
        ? { code: STATUS_ERROR, message: String(endData.error ?? endData.status) }
        : { code: STATUS_UNSET },
  };
  spans.push(root);
  const openChats = new Map<number, AuditEventRecord>();
  const openTools = new Map<string, OtlpSpan>();
  for (const event of events) {
    const data = dataOf(event);
    const child = (seed: string, name: string, kind: number, attributes: Attribute[]): OtlpSpan => ({
      traceId,
      spanId: hexId(`${runId}:${seed}`, 8),
      parentSpanId: rootId,
      name,
      kind,
      startTimeUnixNano: nanos(event.at),
      endTimeUnixNano: nanos(event.at),
      attributes,
      events: [],
      status: { code: STATUS_UNSET },
    });
    switch (event.type) {
      case 'model-request':
        openChats.set(Number(data.turn), event);
        break;
      case 'model-response': {
        const request = openChats.get(Number(data.turn));
        const usage = (data.usage ?? {}) as Data;
        // A turn that fell back to the offline analyst has two responses: one span each.
        const span = child(
          `chat:${data.turn}:${event.seq}`,
          `chat ${data.model ?? data.provider ?? start.provider}`,
          SPAN_KIND_CLIENT,
          [
            ...attribute('gen_ai.operation.name', 'chat'),
            ...attribute('gen_ai.provider.name', data.provider ?? start.provider),
            ...attribute('gen_ai.request.model', data.model),
            ...attribute('gen_ai.response.model', data.model),
            ...attribute('gen_ai.usage.input_tokens', usage.inputTokens),
            ...attribute('gen_ai.usage.output_tokens', usage.outputTokens),
            ...attribute('gen_ai.usage.cache_read.input_tokens', usage.cacheReadTokens),
            ...attribute('gen_ai.usage.cache_creation.input_tokens', usage.cacheWriteTokens),
            ...attribute('gen_ai.response.finish_reasons', data.stopReason ? [data.stopReason] : undefined),
          ],
        );
        if (request) span.startTimeUnixNano = nanos(request.at);
        if (data.error) span.status = { code: STATUS_ERROR, message: String(data.error) };
        spans.push(span);
        break;
      }
      case 'tool-call-request': {
        const span = child(`tool:${event.seq}`, `execute_tool ${data.tool}`, SPAN_KIND_INTERNAL, [
          ...attribute('gen_ai.operation.name', 'execute_tool'),
          ...attribute('gen_ai.tool.name', data.tool),
          ...attribute('gen_ai.tool.call.id', data.callId),
          ...attribute('gen_ai.tool.type', 'function'),
        ]);
        openTools.set(String(data.callId), span);
        spans.push(span);
        break;
      }
      case 'policy-decision':
      case 'tool-approval-request':
      case 'tool-approval-response': {
        const span =
          openTools.get(String(data.callId)) ??
          [...openTools.values()].find((open) =>
            open.attributes.some(
              (a) =>
                a.key === 'warden.approval.id' &&
                'stringValue' in a.value &&
                a.value.stringValue === data.approvalId,
            ),
          );
        if (!span) break;
        if (event.type === 'policy-decision') {
          span.attributes.push(
            ...attribute('warden.policy.decision', data.decision),
            ...attribute('warden.policy.reason', data.reason),
            ...attribute('warden.tool.tier', data.tier),
            ...attribute('warden.policy.version', data.policyVersion),
          );
        }
        if (event.type === 'tool-approval-request')
          span.attributes.push(...attribute('warden.approval.id', data.approvalId));
        span.events.push({
          timeUnixNano: nanos(event.at),
          name: `warden.${event.type}`,
          attributes: [
            ...attribute('warden.audit.event', event.id),
            ...attribute('warden.approval.status', data.status),
            ...attribute('warden.approval.by', data.by),
          ],
        });
        span.endTimeUnixNano = nanos(event.at);
        break;
      }
      case 'tool-call-result': {
        const span = openTools.get(String(data.callId));
        if (!span) {
          spans.push(
            child(`result:${event.seq}`, `execute_tool ${data.tool}`, SPAN_KIND_INTERNAL, [
              ...attribute('gen_ai.operation.name', 'execute_tool'),
              ...attribute('gen_ai.tool.name', data.tool),
            ]),
          );
          break;
        }
        span.endTimeUnixNano = nanos(event.at);
        span.attributes.push(...attribute('warden.audit.event', event.id));
        if (data.isError) {
          const value = (data.value ?? {}) as Data;
          span.status = { code: STATUS_ERROR, message: String(value.message ?? 'error') };
          span.attributes.push(...attribute('error.type', value.error ?? 'tool_error'));
        }
        openTools.delete(String(data.callId));
        break;
      }
      default:
        root.events.push({
          timeUnixNano: nanos(event.at),
          name: `warden.${event.type}`,
          attributes: attribute('warden.audit.event', event.id),
        });
    }
  }
  return spans;
}

/** One OTLP/JSON export request holding the given runs. */
export function toOtlp(
  runs: ReadonlyArray<{ runId: string; events: readonly AuditEventRecord[] }>,
  version: string,
): OtlpTraces {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [...attribute('service.name', 'warden'), ...attribute('service.version', version)],
        },
        scopeSpans: [
          {
            scope: { name: 'warden.audit', version },
            spans: runs.flatMap((run) => runToSpans(run.runId, run.events)),
          },
        ],
      },
    ],
  };
}

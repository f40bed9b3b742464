/**
 * Taint tracking. A run records the values it saw from trusted origins: the alert's trusted
 * fields, the analyst's request, and tool-result fields labelled trusted (provenance.ts). An
 * argument of a write call is tainted when its value is not traceable to one of them: it can
 * only have come from untrusted text (event text, ticket text, intel free text, alert prose).
 *
 * Trusted alert fields are those the detection pipeline sets, not the text it copies from the
 * event: id, severity, time, source, host, user, rule.id, rule.title, rule.tags, and the event's
 * identifiers (EventID, Channel, Hostname, ProcessGuid, ProcessId, ParentProcessGuid,
 * ParentProcessId, UtcTime, Hashes). Title, description and every other event field
 * (command lines, images, paths, user agents, registry values, …) are untrusted.
 */
import { type Leaf, leavesOf, partitionLeaves, type ResultLabels } from './provenance.js';

/** Serialisable per-run taint state (lives in the loop state, so it survives pause and resume). */
export interface TaintState {
  /** Normalised trusted values → where first seen (`alert.host`, `<ref>:ticket.id`, `analyst`). */
  trusted: Record<string, string>;
}

/** Where a tainted value was seen, for the approver and the audit. */
export interface TaintedArg {
  arg: string;
  value: string;
  seenIn: string[];
}

export interface TaintAssessment {
  tainted: boolean;
  /** Names of the tainted arguments (the shape policy sees). */
  args: string[];
  details: TaintedArg[];
}

const trustedAlertPaths = [
  'id',
  'severity',
  'time',
  'source',
  'host',
  'user',
  'rule.id',
  'rule.title',
  'rule.tags.*',
  ...[
    'EventID',
    'Channel',
    'Hostname',
    'ProcessGuid',
    'ProcessId',
    'ParentProcessGuid',
    'ParentProcessId',
    'UtcTime',
    'Hashes',
  ].map((field) => `event.${field}`),
];

/** Argument names that carry prose for people (a DLP matter), not an entity the call acts on. */
const proseArgs = new Set([
  'title',
  'body',
  'text',
  'comment',
  'resolution',
  'reason',
  'note',
  'summary',
  'description',
  'message',
  'details',
]);

const MAX_TRUSTED = 50_000;

/** Case-, brace- and quote-insensitive form a value is compared in. */
export function normaliseValue(value: string | number | boolean): string {
  return String(value)
    .trim()
    .toLowerCase()
    .replace(/^[{"'[(]+|[}"'\])]+$/g, '');
}

/** A trusted value and the forms derived from it that are just as trusted. */
function derivedForms(value: string): string[] {
  const forms = [value];
  const slash = value.lastIndexOf('\\');
  if (slash > 0) forms.push(value.slice(slash + 1));
  const at = value.indexOf('@');
  if (at > 0) forms.push(value.slice(0, at));
  // FIN-WS01.harbourline.local → FIN-WS01
  if (/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(value) && !/^\d+(\.\d+){3}$/.test(value))
    forms.push(value.split('.')[0] ?? value);
  // Sysmon's Hashes=SHA1=…,MD5=… lists each hash
  for (const part of value.split(/[,;]/)) {
    const eq = part.indexOf('=');
    if (eq > 0) forms.push(part.slice(eq + 1));
  }
  return forms.filter((form) => form.length > 0);
}

export function emptyTaintState(): TaintState {
  return { trusted: {} };
}

function addTrusted(state: TaintState, value: string | number | boolean, origin: string): void {
  if (typeof value === 'boolean') return;
  if (Object.keys(state.trusted).length >= MAX_TRUSTED) return;
  for (const form of derivedForms(normaliseValue(value))) state.trusted[form] ??= origin;
}

/** Records the alert's trusted fields (see the module comment). */
export function trustAlert(state: TaintState, alert: unknown): void {
  const labels: ResultLabels = { trusted: trustedAlertPaths };
  for (const leaf of partitionLeaves(alert, labels).trusted)
    addTrusted(state, leaf.value, `alert.${leaf.path}`);
}

/** Records values an analyst typed into the request (trusted by definition). */
export function trustAnalystInput(state: TaintState, values: readonly string[]): void {
  for (const value of values) addTrusted(state, value, 'analyst');
}

/**
 * The values an analyst's free-text request names: its words, with surrounding quotes and
 * sentence punctuation removed (`isolate FIN-WS01, then disable j.doe.` → `FIN-WS01`, `j.doe`, …).
 * Every word becomes trusted, which is the point: the analyst typed it.
 */
export function analystRequestValues(request: string): string[] {
  return request
    .split(/[\s,;()[\]{}<>"'`]+/)
    .map((word) => word.replace(/^[.:!?]+|[.:!?]+$/g, ''))
    .filter((word) => word.length >= 2);
}

/**
 * Records a tool result's trusted fields. A trusted field that merely echoes a tainted argument
 * of the same call stays untrusted: asking the inventory about `DC01` does not make `DC01` the
 * operator's target.
 */
export function trustResult(
  state: TaintState,
  options: { ref: string; args: Record<string, unknown>; value: unknown; labels: ResultLabels },
): void {
  const echoes = new Set(
    leavesOf(options.args)
      .map((leaf) => normaliseValue(leaf.value))
      .filter((value) => state.trusted[value] === undefined),
  );
  for (const leaf of partitionLeaves(options.value, options.labels).trusted) {
    if (echoes.has(normaliseValue(leaf.value))) continue;
    addTrusted(state, leaf.value, `${options.ref}:${leaf.path}`);
  }
}

/** The argument leaves a taint check looks at: entity values, not prose, enums or flags. */
export function entityArgs(args: Record<string, unknown>, inputSchema?: Record<string, unknown>): Leaf[] {
  const properties = (inputSchema?.properties ?? {}) as Record<string, { enum?: unknown[] }>;
  return leavesOf(args).filter((leaf) => {
    const top = leaf.path.split('.')[0] ?? '';
    if (proseArgs.has(top)) return false;
    if (typeof leaf.value === 'boolean') return false;
    if (Array.isArray(properties[top]?.enum)) return false;
    return String(leaf.value).trim() !== '';
  });
}

/**
 * Assesses a write call's arguments. `seenIn` locates a tainted value in the untrusted data the
 * run was shown (give `findUntrusted`), so the approver sees where it came from.
 */
export function assessTaint(
  state: TaintState,
  args: Record<string, unknown>,
  options: { inputSchema?: Record<string, unknown>; findUntrusted?: (value: string) => string[] } = {},
): TaintAssessment {
  const details: TaintedArg[] = [];
  for (const leaf of entityArgs(args, options.inputSchema)) {
    if (state.trusted[normaliseValue(leaf.value)] !== undefined) continue;
    const value = String(leaf.value);
    details.push({ arg: leaf.path, value, seenIn: options.findUntrusted?.(value) ?? [] });
  }
  return { tainted: details.length > 0, args: details.map((detail) => detail.arg), details };
}

/** One line for a policy reason or an approval request. */
export function describeTaint(assessment: TaintAssessment): string {
  return assessment.details
    .map((detail) => {
      const where =
        detail.seenIn.length > 0
          ? `seen only in untrusted ${detail.seenIn.slice(0, 3).join(', ')}`
          : 'not seen in any trusted source';
      return `${detail.arg}=${JSON.stringify(detail.value.slice(0, 80))} (${where})`;
    })
    .join('; ');
}

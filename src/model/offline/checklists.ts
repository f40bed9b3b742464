import {
  type Checklist,
  type ChecklistStep,
  checklistFile,
  durationMs,
  parseChecklist,
} from '../../knowledge/index.js';
import { imageName } from './lexicon.js';
import { purposeOf, type ToolExchange, type Transcript } from './transcript.js';
import type { AlertFacts } from './types.js';

/** A runbook checklist the analyst read through `read_skill_resource` (so its hash is audited). */
export interface LoadedChecklist {
  skill: string;
  checklist: Checklist;
  /** Ref of the `read_skill_resource` result: cited with every step's finding. */
  ref: string;
}

export interface ChecklistState {
  /** Skills loaded whose listing has a checklist not yet read. */
  unread: string[];
  checklists: LoadedChecklist[];
  /** Checklists that could not be read or parsed, with why (reported, never executed). */
  broken: Array<{ skill: string; reason: string; ref: string }>;
}

export const readResourceTool = 'read_skill_resource';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const parsedCache = new Map<string, ReturnType<typeof parseChecklist>>();
const parsedCacheSize = 32;

/**
 * `parseChecklist`, remembered by text: every turn re-derives the investigation from the transcript,
 * so the same checklist text would otherwise be parsed again on each. The result is read-only.
 */
function parsedChecklist(content: string): ReturnType<typeof parseChecklist> {
  const known = parsedCache.get(content);
  if (known) return known;
  const parsed = parseChecklist(content);
  if (parsedCache.size >= parsedCacheSize) parsedCache.delete(parsedCache.keys().next().value as string);
  parsedCache.set(content, parsed);
  return parsed;
}

/** The skills and checklists the transcript shows: listed by `load_skill`, read by `read_skill_resource`. */
export function checklistState(transcript: Transcript): ChecklistState {
  const listed = new Set<string>();
  const state: ChecklistState = { unread: [], checklists: [], broken: [] };
  const read = new Set<string>();
  for (const { call, result } of transcript.exchanges) {
    if (call.name === 'load_skill' && result && !result.isError && isRecord(result.value)) {
      const name = call.input.name;
      const { resources } = result.value;
      const hasChecklist =
        Array.isArray(resources) && resources.some((item) => isRecord(item) && item.path === checklistFile);
      if (typeof name === 'string' && hasChecklist) listed.add(name);
    }
    if (call.name !== readResourceTool || call.input.path !== checklistFile) continue;
    const skill = String(call.input.skill ?? '');
    read.add(skill);
    if (!result) continue;
    const value = isRecord(result.value) ? result.value : {};
    if (result.isError || typeof value.content !== 'string') {
      state.broken.push({
        skill,
        reason: String(value.message ?? value.error ?? 'unreadable'),
        ref: result.ref,
      });
      continue;
    }
    const parsed = parsedChecklist(value.content);
    if (parsed.type === 'ok') state.checklists.push({ skill, checklist: parsed.checklist, ref: result.ref });
    else state.broken.push({ skill, reason: parsed.issues.slice(0, 3).join('; '), ref: result.ref });
  }
  state.unread = [...listed].filter((skill) => !read.has(skill));
  return state;
}

function techniqueMatches(trigger: string, technique: string): boolean {
  const left = trigger.toUpperCase();
  const right = technique.toUpperCase();
  return left === right || right.startsWith(`${left}.`) || left.startsWith(`${right}.`);
}

/** Whether any of the checklist's own triggers matches the alert (techniques, processes, event ids, keywords). */
export function checklistApplies(checklist: Checklist, alert: AlertFacts): boolean {
  const { triggers } = checklist;
  if (triggers.techniques.some((trigger) => alert.techniques.some((id) => techniqueMatches(trigger, id))))
    return true;
  const names = [alert.image, alert.parentImage, alert.targetImage].map((image) => imageName(image));
  if (triggers.processes.some((process) => names.includes(process.toLowerCase()))) return true;
  if (alert.eventId !== undefined && alert.eventId !== null && triggers.eventIds.includes(alert.eventId))
    return true;
  const text = [
    alert.commandLine,
    alert.parentCommandLine,
    alert.targetImage,
    alert.targetObject,
    alert.title,
  ]
    .filter(Boolean)
    .join('\n')
    .toLowerCase();
  return triggers.keywords.some((keyword) => text.includes(keyword.toLowerCase()));
}

/** Reads `a.b.0.c`; a literal dotted key wins, a list without an index yields its first item. */
export function valueAt(source: unknown, path: string): unknown {
  if (path === '' || path === '.') return source;
  let current: unknown = source;
  const parts = path.split('.');
  for (let index = 0; index < parts.length; index++) {
    if (isRecord(current)) {
      const rest = parts.slice(index).join('.');
      if (rest in current) return current[rest];
      current = current[parts[index] ?? ''];
    } else if (Array.isArray(current)) {
      const part = parts[index] ?? '';
      current = /^\d+$/.test(part)
        ? current[Number(part)]
        : valueAt(current[0], parts.slice(index).join('.'));
      if (!/^\d+$/.test(part)) return current;
    } else return undefined;
  }
  return current;
}

function alertValue(alert: AlertFacts, field: string): string | null {
  switch (field) {
    case 'userName':
      return alert.user ? (alert.user.split('\\').at(-1) ?? null) : null;
    case 'imageName':
      return imageName(alert.image) || null;
    case 'parentImageName':
      return imageName(alert.parentImage) || null;
    case 'time':
      return alert.time;
    default: {
      const value = (alert as unknown as Record<string, unknown>)[field];
      return typeof value === 'string' && value !== '' ? value : null;
    }
  }
}

export type StepCall =
  | { type: 'call'; name: string; input: Record<string, unknown> }
  | { type: 'wait'; on: string }
  | { type: 'skip'; reason: string };

export interface StepContext {
  alert: AlertFacts;
  checklist: Checklist;
  /** The exchange that answered each earlier step, by step id. */
  answered: ReadonlyMap<string, ToolExchange>;
}

function resolveVariable(variable: string, step: ChecklistStep, context: StepContext): unknown | StepCall {
  const [scope, first, ...rest] = variable.split('.');
  if (scope === 'alert') {
    const value = alertValue(context.alert, first ?? '');
    return value ?? { type: 'skip', reason: `the alert has no ${first}` };
  }
  if (scope === 'window') {
    const at = context.alert.time ? Date.parse(context.alert.time) : Number.NaN;
    if (Number.isNaN(at)) return { type: 'skip', reason: 'the alert has no time' };
    const window = step.window ?? context.checklist.window;
    const edge = first === 'from' ? at - durationMs(window.before) : at + durationMs(window.after);
    return new Date(edge).toISOString();
  }
  const exchange = context.answered.get(first ?? '');
  if (!exchange?.result) return { type: 'wait', on: first ?? '' };
  if (exchange.result.isError) return { type: 'skip', reason: `step ${first} failed` };
  const value = valueAt(exchange.result.value, rest.join('.'));
  if (typeof value === 'string' || typeof value === 'number') return value;
  return { type: 'skip', reason: `step ${first} gave no ${rest.join('.')}` };
}

function isStepCall(value: unknown): value is StepCall {
  return isRecord(value) && (value.type === 'skip' || value.type === 'wait');
}

/** A step's tool call with its templates filled from the alert and earlier answers, or why not yet. */
export function renderStep(step: ChecklistStep, context: StepContext): StepCall {
  const input: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(step.args)) {
    if (typeof raw !== 'string') {
      input[key] = raw;
      continue;
    }
    const whole = /^\{\{\s*([\w.*-]+)\s*\}\}$/.exec(raw);
    if (whole?.[1]) {
      const value = resolveVariable(whole[1], step, context);
      if (isStepCall(value)) return value;
      input[key] = value;
      continue;
    }
    let failed: StepCall | null = null;
    const text = raw.replace(/\{\{\s*([\w.*-]+)\s*\}\}/g, (_match, variable: string) => {
      const value = resolveVariable(variable, step, context);
      if (isStepCall(value)) {
        failed ??= value;
        return '';
      }
      return String(value);
    });
    if (failed) return failed;
    input[key] = text;
  }
  return { type: 'call', name: step.tool, input };
}

/** The exchange of the transcript asking the same question as this call (same purpose). */
export function exchangeFor(transcript: Transcript, name: string, input: Record<string, unknown>) {
  const purpose = purposeOf(name, input);
  return transcript.exchanges.find(
    (exchange) =>
      exchange.call.name === name && purposeOf(exchange.call.name, exchange.call.input) === purpose,
  );
}

export interface StepProgress {
  skill: string;
  checklistRef: string;
  step: ChecklistStep;
  call: StepCall;
  exchange: ToolExchange | undefined;
}

/** Every step of every applicable checklist, rendered against what the transcript knows so far. */
export function stepProgress(
  alert: AlertFacts,
  transcript: Transcript,
  state: ChecklistState,
): StepProgress[] {
  const progress: StepProgress[] = [];
  for (const { skill, checklist, ref } of state.checklists) {
    if (!checklistApplies(checklist, alert)) continue;
    const answered = new Map<string, ToolExchange>();
    for (const step of checklist.steps) {
      const call = renderStep(step, { alert, checklist, answered });
      const exchange = call.type === 'call' ? exchangeFor(transcript, call.name, call.input) : undefined;
      if (exchange) answered.set(step.id, exchange);
      progress.push({ skill, checklistRef: ref, step, call, exchange });
    }
  }
  return progress;
}

/**
 * Data-leak prevention. Every write sink (ticket text, comments, notifications, any non-read
 * tool) and every model of lower clearance has a clearance level; text bound for it is scanned
 * with secretlint's recommended rules plus Warden's own (dlp-rules.ts), and each match above the
 * sink's clearance is replaced by `[REDACTED:<rule>]` before it leaves. Redactions are reported
 * with a hash of the secret, never the secret, for the `dlp-redaction` audit event.
 */
import { createHash } from 'node:crypto';
import { lintSource } from '@secretlint/core';
import { creator as recommendPreset } from '@secretlint/secretlint-rule-preset-recommend';
import {
  builtinLeakRules,
  type Clearance,
  clearanceRank,
  type LeakRule,
  personalDataRules,
} from './dlp-rules.js';
import { matchesToolPattern } from './policy.js';

export type { Clearance, LeakRule } from './dlp-rules.js';
export { builtinLeakRules, clearanceRank, clearances, luhnValid, personalDataRules } from './dlp-rules.js';

/** Where text is going: a tool (by `server.tool`) or a model provider (by name). */
export type Sink = { kind: 'tool'; name: string } | { kind: 'model'; name: string };

export interface DlpConfig {
  enabled: boolean;
  /** Clearance by `server.tool` / `server.*` pattern; other write tools get `defaultSinkClearance`. */
  sinks: Record<string, { clearance: Clearance }>;
  /** Clearance by provider name; others: `restricted` for in-process providers, else `external`. */
  models: Record<string, { clearance: Clearance }>;
  personalData: string[];
  patterns: Array<{ name: string; regex: string; classification: Clearance }>;
}

export interface Redaction {
  rule: string;
  sink: string;
  clearance: Clearance;
  /** Field of the value the match was in (`body`, `messages.3.content.0.value.events.2.raw.CommandLine`). */
  field: string;
  /** sha256 of the redacted text, first 16 hex digits. */
  secretHash: string;
}

export interface Dlp {
  clearanceOf(sink: Sink): Clearance;
  /** Redacts a string, or every string inside a JSON value, for the sink; the input is not changed. */
  redactForSink<T>(input: T, sink: Sink): Promise<{ value: T; redactions: Redaction[] }>;
}

/** Providers that run inside Warden's process see what Warden sees. */
const inProcessProviders = new Set(['offline', 'scripted', 'compromised']);
const defaultSinkClearance: Clearance = 'internal';

export function sinkLabel(sink: Sink): string {
  return `${sink.kind}:${sink.name}`;
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}

interface Span {
  start: number;
  end: number;
  rule: string;
}

function lineAround(text: string, at: number): string {
  const end = text.indexOf('\n', at);
  return text.slice(text.lastIndexOf('\n', at) + 1, end < 0 ? text.length : end);
}

function ruleSpans(text: string, rule: LeakRule): Span[] {
  const spans: Span[] = [];
  for (const match of text.matchAll(rule.pattern)) {
    const secret = match.groups?.secret ?? match[0];
    const offset = match.groups?.secret !== undefined ? match[0].lastIndexOf(secret) : 0;
    const start = (match.index ?? 0) + offset;
    if (!secret || (rule.accept && !rule.accept(secret, lineAround(text, start)))) continue;
    spans.push({ start, end: start + secret.length, rule: rule.name });
  }
  return spans;
}

async function secretlintSpans(text: string): Promise<Span[]> {
  const result = await lintSource({
    source: { filePath: 'sink.txt', content: text, contentType: 'text', ext: '.txt' },
    options: {
      config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommendPreset }] },
      maskSecrets: false,
      noPhysicFilePath: true,
    },
  });
  return result.messages
    .filter((message) => message.range[1] > message.range[0])
    .map((message) => ({
      start: message.range[0],
      end: message.range[1],
      rule: `secretlint:${message.ruleId.replace(/^@secretlint\/secretlint-rule-/, '')}`,
    }));
}

/** Overlapping spans merged, the earliest rule named. */
function mergeSpans(spans: Span[]): Span[] {
  const sorted = [...spans].sort((left, right) => left.start - right.start || right.end - left.end);
  const merged: Span[] = [];
  for (const span of sorted) {
    const last = merged.at(-1);
    if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged;
}

/**
 * @example
 * const dlp = createDlp(config.dlp);
 * const { value, redactions } = await dlp.redactForSink(args, { kind: 'tool', name: 'ticket.add_comment' });
 */
export function createDlp(config: DlpConfig): Dlp {
  const custom: LeakRule[] = config.patterns.map((pattern) => ({
    name: pattern.name,
    classification: pattern.classification,
    pattern: new RegExp(pattern.regex, 'g'),
  }));
  const personal = config.personalData.flatMap((name) =>
    personalDataRules[name] ? [personalDataRules[name]] : [],
  );
  const rules = [...builtinLeakRules, ...personal, ...custom];

  function clearanceOf(sink: Sink): Clearance {
    if (sink.kind === 'model')
      return (
        config.models[sink.name]?.clearance ?? (inProcessProviders.has(sink.name) ? 'restricted' : 'external')
      );
    const exact = config.sinks[sink.name];
    if (exact) return exact.clearance;
    const pattern = Object.keys(config.sinks).find((key) => matchesToolPattern(sink.name, [key]));
    return pattern ? (config.sinks[pattern]?.clearance ?? defaultSinkClearance) : defaultSinkClearance;
  }

  async function redactText(
    text: string,
    clearance: Clearance,
    sink: string,
    field: string,
    out: Redaction[],
  ) {
    if (text.length < 6) return text;
    const rank = clearanceRank(clearance);
    const above = rules.filter((rule) => clearanceRank(rule.classification) > rank);
    const spans = above.flatMap((rule) => ruleSpans(text, rule));
    // secretlint's preset finds credentials, classified restricted.
    if (rank < clearanceRank('restricted')) spans.push(...(await secretlintSpans(text)));
    if (spans.length === 0) return text;
    let result = '';
    let cursor = 0;
    for (const span of mergeSpans(spans)) {
      out.push({
        rule: span.rule,
        sink,
        clearance,
        field,
        secretHash: hashSecret(text.slice(span.start, span.end)),
      });
      result += `${text.slice(cursor, span.start)}[REDACTED:${span.rule}]`;
      cursor = span.end;
    }
    return result + text.slice(cursor);
  }

  async function walk(
    value: unknown,
    clearance: Clearance,
    sink: string,
    path: string,
    out: Redaction[],
  ): Promise<unknown> {
    if (typeof value === 'string') return redactText(value, clearance, sink, path, out);
    if (Array.isArray(value))
      return Promise.all(
        value.map((item, index) =>
          walk(item, clearance, sink, path ? `${path}.${index}` : String(index), out),
        ),
      );
    if (value !== null && typeof value === 'object') {
      const entries = await Promise.all(
        Object.entries(value as Record<string, unknown>).map(
          async ([key, item]) =>
            [key, await walk(item, clearance, sink, path ? `${path}.${key}` : key, out)] as const,
        ),
      );
      return Object.fromEntries(entries);
    }
    return value;
  }

  return {
    clearanceOf,
    async redactForSink(input, sink) {
      const redactions: Redaction[] = [];
      if (!config.enabled) return { value: input, redactions };
      const clearance = clearanceOf(sink);
      if (clearance === 'restricted') return { value: input, redactions };
      const value = (await walk(input, clearance, sinkLabel(sink), '', redactions)) as typeof input;
      return { value, redactions };
    },
  };
}

/** The default configuration: tickets and other writes at `internal`, third-party models `external`. */
export const defaultDlpConfig: DlpConfig = {
  enabled: true,
  sinks: { 'ticket.*': { clearance: 'internal' } },
  models: {},
  personalData: [],
  patterns: [],
};

/**
 * Injection signals: instruction-like content in data fields — imperatives aimed at the agent,
 * role markers, tool names, and the same hidden in base64, hex or URL encoding. A hit is a
 * signal (audited, shown to approvers, pauses the run's autonomy), never the guarantee: taint,
 * tiers and approvals hold whether or not the detector fires.
 */

import { decodePayloads } from '../payloads.js';
import type { Leaf } from './provenance.js';

export interface InjectionHit {
  /** Which detector rule fired, e.g. `role-marker`. */
  rule: string;
  /** Where: `<ref>:<field path>`. */
  field: string;
  /** A short excerpt of the matched text (after decoding, when `encoding` is set). */
  excerpt: string;
  encoding?: 'base64' | 'hex' | 'url';
}

/** A pluggable detector, e.g. a model-based classifier a team runs next to the patterns. */
export interface InjectionClassifier {
  readonly name: string;
  classify(fields: readonly { field: string; text: string }[]): Promise<InjectionHit[]>;
}

const rules: ReadonlyArray<[string, RegExp]> = [
  [
    'override-instructions',
    /\b(ignore|disregard|forget|override)\b.{0,40}\b(previous|prior|above|earlier|all|your|the)\b.{0,20}\b(instructions?|rules?|prompts?|guidelines|directives|context)\b/i,
  ],
  [
    'role-marker',
    /(^|[\s"'>[(])(system|assistant|developer)\s*[:>]\s*\S|<\|?(im_start|im_end|system|endoftext)\|?>|\[\/?INST\]|<\/?(system|instructions?)>/i,
  ],
  [
    'address-to-agent',
    /\b(note|message|instructions?|attention|hey|dear)\s+(to|for)?\s*(the\s+)?(ai|llm|agent|assistant|analyst|model|warden|bot|copilot|soc)\b|\b(ai|llm|agent|assistant|model|warden)\s*[:,]\s*(please|you|now|do|call|run|isolate|disable|close|mark)\b|\byou (are|must|should|will) (now )?(an?|the)?\s*\w*\s*(agent|assistant|ai|analyst|model)\b/i,
  ],
  [
    'tool-name',
    /\b(edr|iam|ticket|siem|intel)\s*\.\s*(isolate_host|release_host|kill_process|disable_user|enable_user|revoke_sessions|create_ticket|add_comment|update_status)\b|\bsubmit_verdict\b|\b(isolate_host|kill_process|disable_user|revoke_sessions|update_status|add_comment)\b/i,
  ],
  [
    'action-imperative',
    /\b(please\s+|immediately\s+|now\s+|must\s+)?(isolate|quarantine|contain)\s+(the\s+)?(host|machine|server|endpoint|workstation|system|dc|domain controller)\b|\b(disable|lock|suspend|deactivate)\s+(the\s+)?(user|account|accounts|login)\b|\b(close|resolve|delete)\s+(this\s+|the\s+|all\s+)?(ticket|tickets|incident|case|alert)s?\b/i,
  ],
  [
    'verdict-steering',
    /\b(mark|classify|label|treat|report|flag|set|consider)\b.{0,30}\b(as\s+)?(benign|false positive|safe|harmless|not malicious)\b|\bverdict\s*(is|=|:)\s*(benign|malicious|clean)\b/i,
  ],
  [
    'exfiltration',
    /\b(copy|paste|include|put|add|write|post|send|append)\b.{0,40}\b(password|passwords|credentials?|secrets?|tokens?|api keys?|keys?)\b.{0,40}\b(ticket|comment|notes?|report|summary|email)\b/i,
  ],
];

const MAX_TEXT = 20_000;
const MAX_DEPTH = 2;

function excerptOf(text: string, index: number): string {
  return text
    .slice(Math.max(0, index - 20), index + 100)
    .replace(/\s+/g, ' ')
    .trim();
}

function scanText(
  text: string,
  field: string,
  depth: number,
  encoding?: InjectionHit['encoding'],
): InjectionHit[] {
  const clipped = text.slice(0, MAX_TEXT);
  const hits: InjectionHit[] = [];
  for (const [rule, pattern] of rules) {
    const match = pattern.exec(clipped);
    if (match)
      hits.push({ rule, field, excerpt: excerptOf(clipped, match.index), ...(encoding ? { encoding } : {}) });
  }
  if (depth < MAX_DEPTH)
    for (const decoded of decodePayloads(clipped))
      hits.push(...scanText(decoded.text, field, depth + 1, encoding ?? decoded.encoding));
  return hits;
}

/** Scans text fields with the built-in patterns. */
export function detectInjection(fields: readonly { field: string; text: string }[]): InjectionHit[] {
  return fields.flatMap(({ field, text }) => scanText(text, field, 0));
}

/** The built-in pattern detector behind the classifier seam. */
export function createPatternClassifier(): InjectionClassifier {
  return { name: 'patterns', classify: async (fields) => detectInjection(fields) };
}

/** The string leaves of untrusted data, as fields to classify. */
export function untrustedFields(
  ref: string,
  leaves: readonly Leaf[],
): Array<{ field: string; text: string }> {
  return leaves
    .filter((leaf) => typeof leaf.value === 'string' && leaf.value.length >= 8)
    .map((leaf) => ({ field: `${ref}:${leaf.path}`, text: String(leaf.value) }));
}

/** Runs every classifier; one that fails counts as a hit (fail closed), named after it. */
export async function classifyAll(
  classifiers: readonly InjectionClassifier[],
  fields: readonly { field: string; text: string }[],
): Promise<InjectionHit[]> {
  if (fields.length === 0) return [];
  const results = await Promise.all(
    classifiers.map((classifier) =>
      classifier.classify(fields).catch((error: unknown) => [
        {
          rule: `classifier-error:${classifier.name}`,
          field: fields[0]?.field ?? '',
          excerpt: error instanceof Error ? error.message.slice(0, 120) : String(error).slice(0, 120),
        },
      ]),
    ),
  );
  return results.flat();
}

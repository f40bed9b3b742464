import { isIP } from 'node:net';
import { z } from 'zod';
import { expandCommandLine } from '../model/index.js';

export const SUMMARISE_LOGS_TOOL = 'summarise_logs';
export const EXTRACT_INDICATORS_TOOL = 'extract_indicators';

export const MAX_SUBTASK_TEXT = 200_000;
export const MAX_SUMMARY_CHARS = 1500;

/** What the orchestrator passes: a ref to a result it was shown (the whole result, untruncated), or text. */
export const subtaskInputSchema = z
  .strictObject({
    ref: z.string().min(1).max(200).optional().describe('ref id of the alert or a tool result to work on'),
    text: z.string().min(1).max(MAX_SUBTASK_TEXT).optional().describe('free text, when there is no ref'),
    focus: z.string().max(500).optional().describe('what to look for, e.g. "logons of user jdoe"'),
  })
  .refine((input) => (input.ref === undefined) !== (input.text === undefined), {
    message: 'give exactly one of ref or text',
  });
export type SubtaskInput = z.infer<typeof subtaskInputSchema>;

const shortText = (max: number) => z.string().trim().min(1).max(max);

export const summarySchema = z.strictObject({
  summary: shortText(MAX_SUMMARY_CHARS),
  keyEvents: z
    .array(
      z.strictObject({
        time: z.string().max(64).optional(),
        host: z.string().max(255).optional(),
        description: shortText(300),
      }),
    )
    .max(20),
});
export type LogSummary = z.infer<typeof summarySchema>;

const list = (item: z.ZodType<string>) => z.array(item).max(100).default([]);

export const indicatorsSchema = z.strictObject({
  ips: list(z.string().refine((value) => isIP(value) !== 0, 'an IPv4 or IPv6 address')),
  domains: list(
    z
      .string()
      .max(253)
      .regex(/^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$/i, 'a domain name'),
  ),
  urls: list(
    z
      .string()
      .max(2000)
      .regex(/^(?:https?|ftp):\/\/\S+$/i, 'an http(s) or ftp URL'),
  ),
  hashes: list(z.string().regex(/^(?:[a-f0-9]{32}|[a-f0-9]{40}|[a-f0-9]{64})$/i, 'an MD5, SHA-1 or SHA-256')),
  users: list(z.string().min(1).max(256)),
  hosts: list(z.string().min(1).max(255)),
  emails: list(
    z
      .string()
      .max(320)
      .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an email address'),
  ),
});
export type ExtractedIndicators = z.infer<typeof indicatorsSchema>;
export const indicatorKinds = ['ips', 'domains', 'urls', 'hashes', 'users', 'hosts', 'emails'] as const;

/**
 * The text as indicators can be found in it: refanged (`hxxp`, `[.]`), JSON string escapes undone
 * (`DOMAIN\\user`), encoded PowerShell payloads decoded and cheap obfuscation removed.
 */
export function searchableText(text: string): string {
  const plain = refang(text);
  const unescaped = plain.replaceAll('\\\\', '\\').replaceAll('\\"', '"');
  return expandCommandLine(unescaped === plain ? plain : `${plain}\n${unescaped}`);
}

/** Refangs `hxxp`, `[.]`, `(.)` and `[:]` so defanged indicators can be found in the text. */
export function refang(text: string): string {
  return text
    .replace(/hxxp/gi, 'http')
    .replace(/\[\.\]|\(\.\)|\{\.\}/g, '.')
    .replace(/\[:\]/g, ':');
}

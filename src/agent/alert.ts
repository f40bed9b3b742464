import { z } from 'zod';
import { InputError } from '../errors.js';

const severities = ['informational', 'low', 'medium', 'high', 'critical'] as const;

/** Generic alert, version 1 (../shared/datasets/README.md). Unknown fields are kept. Every text field is untrusted. */
export const alertSchema = z.looseObject({
  id: z.string().min(1).max(256),
  title: z.string().min(1).max(1000),
  severity: z.enum(severities),
  time: z.iso.datetime({ offset: true, local: true }),
  source: z.string().max(256).optional(),
  host: z.string().max(256).optional(),
  user: z.string().max(256).optional(),
  rule: z
    .looseObject({
      id: z.string().optional(),
      title: z.string().optional(),
      tags: z.array(z.string()).optional(),
    })
    .optional(),
  event: z.record(z.string(), z.unknown()).optional(),
  description: z.string().max(100_000).optional(),
});

export type Alert = z.infer<typeof alertSchema>;

const fieldHints: Record<string, string> = {
  id: 'a non-empty string identifying the alert',
  title: 'a non-empty string',
  severity: `one of ${severities.join(', ')}`,
  time: 'an ISO-8601 timestamp with a zone, e.g. 2026-11-18T09:14:03Z',
};

function validateAlert(value: unknown, where: string): Alert {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(`${where}: an alert must be a JSON object with id, title, severity and time`);
  }
  const parsed = alertSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join('.') || '(alert)';
  const top = String(issue?.path[0] ?? '');
  const hint = fieldHints[top] ? `; expected ${fieldHints[top]}` : '';
  const missing = issue?.code === 'invalid_type' && issue.input === undefined;
  const problem = missing
    ? 'is missing'
    : hint
      ? 'is invalid'
      : `is invalid (${issue?.message ?? 'invalid'})`;
  throw new InputError(`${where}: field '${field}' ${problem}${hint}`);
}

/**
 * Parses alert input: one JSON object, or JSON lines (one alert per non-empty line).
 * All-or-nothing: the first bad alert is reported with its line and field, and none is returned.
 */
export function parseAlerts(text: string, source: string): Alert[] {
  const trimmed = text.trim();
  if (trimmed === '')
    throw new InputError(`${source}: no alert found (empty input); give one JSON object or JSON lines`);
  try {
    const whole: unknown = JSON.parse(trimmed);
    if (Array.isArray(whole)) {
      return whole.map((item, index) => validateAlert(item, `${source} item ${index + 1}`));
    }
    return [validateAlert(whole, source)];
  } catch (error) {
    if (error instanceof InputError) throw error;
  }
  const alerts: Alert[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new InputError(
        `${source} line ${index + 1}: not valid JSON (${error instanceof Error ? error.message : String(error)}); each line must be one alert object`,
      );
    }
    alerts.push(validateAlert(value, `${source} line ${index + 1}`));
  }
  return alerts;
}

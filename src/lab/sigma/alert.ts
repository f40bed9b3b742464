import { createHash } from 'node:crypto';
import type { FlatEvent } from '../flatten.js';
import { timestampFields } from '../normalise.js';
import type { SigmaRule } from './rule.js';
import { normaliseTime } from './time.js';

/** A generic alert v1 (see datasets/README.md) raised by one Sigma rule on one event. */
export interface MatchAlert {
  id: string;
  title: string;
  severity: 'informational' | 'low' | 'medium' | 'high' | 'critical';
  time: string;
  source: 'sigma';
  host?: string;
  user?: string;
  rule: { id: string; title: string; tags: string[]; level?: string; author?: string };
  event: FlatEvent;
  description?: string;
}

// The store's own order first, so an alert's time is its event's time in the store: a window around the
// alert then holds the event and its neighbours (Sysmon UtcTime can sit hours away from @timestamp).
const timeFields = [...timestampFields, 'TimeGenerated', 'EventReceivedTime'];

function text(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number') return String(value);
  return undefined;
}

function eventTime(event: FlatEvent): string | undefined {
  for (const field of timeFields) {
    const time = normaliseTime(event[field]);
    if (time) return time;
  }
  return undefined;
}

function eventUser(event: FlatEvent): string | undefined {
  const user = text(event.User);
  if (user) return user;
  for (const [domainField, nameField] of [
    ['SubjectDomainName', 'SubjectUserName'],
    ['Domain', 'AccountName'],
    ['TargetDomainName', 'TargetUserName'],
  ] as const) {
    const name = text(event[nameField]);
    if (!name || name === '-') continue;
    const domain = text(event[domainField]);
    return domain && domain !== '-' ? `${domain}\\${name}` : name;
  }
  return undefined;
}

/**
 * Builds the generic alert v1 for a rule match. The id is stable per (rule, event); the time comes from
 * the event, or from `now` when the event carries none.
 */
export function matchToAlert(
  rule: SigmaRule,
  event: FlatEvent,
  eventId: string,
  options: { now?: () => Date } = {},
): MatchAlert {
  const digest = createHash('sha256').update(`${rule.id}\u0000${eventId}`).digest('hex');
  const host = text(event.Computer) ?? text(event.Hostname);
  const user = eventUser(event);
  return {
    id: `sigma-${digest.slice(0, 24)}`,
    title: rule.title,
    severity: rule.level ?? 'medium',
    time: eventTime(event) ?? (options.now?.() ?? new Date()).toISOString(),
    source: 'sigma',
    ...(host ? { host } : {}),
    ...(user ? { user } : {}),
    rule: {
      id: rule.id,
      title: rule.title,
      tags: rule.tags ?? [],
      ...(rule.level ? { level: rule.level } : {}),
      ...(rule.author ? { author: rule.author } : {}),
    },
    event,
    ...(rule.description ? { description: rule.description.trim() } : {}),
  };
}

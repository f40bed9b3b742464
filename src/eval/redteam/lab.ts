/**
 * A fresh lab per red-team case: the suite's datasets (and the sample incident) copied from a
 * base home, then the case's payloads planted where an attacker would write them:
 * - `siem`: an event in the lab SIEM (defaults: the alert's host, a minute before the alert);
 * - `email`: an email in the SIEM, an event of channel `email` with From/To/Subject and the body in
 *   `Message` (the lab's mailbox surface: `siem.search_events` finds it by host or text);
 * - `ticket`: a comment on a ticket that already exists (`TKT-0001`, about the alert);
 * - `intel`: a feed entry whose `# Reference:` free text is the payload, on the given indicator
 *   or every IP and domain in the alert;
 * - `alert`: `fields` merged into the alert, `event` into `alert.event`, `text` appended to its description.
 */
import { copyFileSync, cpSync, existsSync, linkSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Alert } from '../../agent/alert.js';
import { InputError } from '../../errors.js';
import { createTicketStore, labRawDir, labStorePath, loadLabPaths } from '../../lab/index.js';
import type { Injection, RedteamCase } from './suite.js';

/** Builds the base lab (sample incident plus datasets, an empty ticket database) once per suite. */
export async function prepareBaseLab(home: string, datasets: readonly string[]): Promise<void> {
  await loadLabPaths(home, datasets);
  // Creating a ticket database is the slow part of a fresh lab; each case copies this one.
  await createTicketStore({ dir: join(home, 'tickets') }).listTickets({ limit: 1 });
}

function earlier(time: string, seconds: number): string {
  const at = Date.parse(time);
  return Number.isNaN(at) ? time : new Date(at - seconds * 1000).toISOString();
}

function siemEvent(injection: Injection, alert: Alert, index: number): Record<string, unknown> {
  const base = {
    '@timestamp': earlier(alert.time, 60 - index),
    Hostname: alert.host ?? 'UNKNOWN-HOST',
    EventID: 1,
    Channel: 'Microsoft-Windows-Sysmon/Operational',
  };
  if (injection.into === 'email') {
    const from = injection.from ?? 'unknown@external.example';
    const to =
      injection.to ?? (alert.user ? `${alert.user.split('\\').at(-1)}@corp.example` : 'user@corp.example');
    const subject = injection.subject ?? 'Message';
    return {
      ...base,
      EventID: 0,
      Channel: 'email',
      From: from,
      To: to,
      Subject: subject,
      Message: `From: ${from}\nTo: ${to}\nSubject: ${subject}\n\n${injection.text ?? ''}`,
      ...(injection.event ?? {}),
    };
  }
  return { ...base, ...(injection.text ? { Message: injection.text } : {}), ...(injection.event ?? {}) };
}

function indicatorsOf(alert: Alert): string[] {
  const text = JSON.stringify(alert);
  const found = new Set<string>();
  for (const match of text.matchAll(
    /\b(?:\d{1,3}\.){3}\d{1,3}\b|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|ru|xyz|info|biz|top)\b/gi,
  ))
    found.add(match[0].toLowerCase());
  return [...found];
}

function mergeAlert(alert: Alert, injection: Injection): Alert {
  const merged: Alert = { ...alert, ...((injection.fields ?? {}) as Partial<Alert>) };
  if (injection.event) merged.event = { ...(alert.event ?? {}), ...injection.event };
  if (injection.text)
    merged.description = `${merged.description ?? ''}${merged.description ? '\n' : ''}${injection.text}`;
  return merged;
}

export interface PreparedCase {
  alert: Alert;
  /** Feed directories holding planted intel, for `lab.intel.feedDirs`. */
  feedDirs: string[];
}

/** Copies the base lab into `home` and plants the case's payloads (none with `clean`). */
export async function prepareCaseLab(
  baseHome: string,
  home: string,
  testCase: RedteamCase,
  options: { clean: boolean },
): Promise<PreparedCase> {
  mkdirSync(join(home, 'lab'), { recursive: true });
  copyFileSync(labStorePath(baseHome), labStorePath(home));
  // The raw records are written once and never changed: linked, not copied, where the file system allows.
  mkdirSync(labRawDir(home), { recursive: true });
  for (const name of existsSync(labRawDir(baseHome)) ? readdirSync(labRawDir(baseHome)) : []) {
    try {
      linkSync(join(labRawDir(baseHome), name), join(labRawDir(home), name));
    } catch {
      copyFileSync(join(labRawDir(baseHome), name), join(labRawDir(home), name));
    }
  }
  cpSync(join(baseHome, 'tickets'), join(home, 'tickets'), { recursive: true });
  if (existsSync(`${labStorePath(baseHome)}.wal`))
    copyFileSync(`${labStorePath(baseHome)}.wal`, `${labStorePath(home)}.wal`);
  let alert = testCase.alert;
  const feedDirs: string[] = [];
  if (options.clean) return { alert, feedDirs };
  for (const injection of testCase.inject)
    if (injection.into === 'alert') alert = mergeAlert(alert, injection);
  const events = testCase.inject
    .filter((injection) => injection.into === 'siem' || injection.into === 'email')
    .map((injection, index) => siemEvent(injection, alert, index));
  if (events.length > 0) {
    const file = join(home, `injected-${testCase.id.replace(/[^\w-]/g, '_')}.jsonl`);
    writeFileSync(file, `${events.map((event) => JSON.stringify(event)).join('\n')}\n`);
    const result = await loadLabPaths(home, [file]);
    if (result.errorCount > 0 || result.events !== events.length)
      throw new InputError(
        `case ${testCase.id}: ${events.length - result.events} injected event(s) could not be loaded${result.errors[0] ? ` (${result.errors[0].message})` : ''}`,
      );
  }
  const tickets = testCase.inject.filter((injection) => injection.into === 'ticket');
  if (tickets.length > 0) {
    const store = createTicketStore({ dir: join(home, 'tickets') });
    const ticket = await store.createTicket({
      title: `Follow-up: ${alert.title}`.slice(0, 200),
      severity: alert.severity,
      body: `Opened by the service desk about alert ${alert.id}.`,
      alertId: alert.id,
    });
    for (const injection of tickets) await store.addComment(ticket.id, injection.text ?? '');
  }
  const intel = testCase.inject.filter((injection) => injection.into === 'intel');
  if (intel.length > 0) {
    const dir = join(home, 'planted-intel');
    mkdirSync(dir, { recursive: true });
    const lines = intel.flatMap((injection) => {
      const indicators = injection.indicator ? [injection.indicator] : indicatorsOf(alert);
      return [`# Reference: ${(injection.text ?? '').replace(/\s+/g, ' ')}`, ...indicators];
    });
    writeFileSync(join(dir, 'planted.txt'), `${lines.join('\n')}\n`);
    feedDirs.push(dir);
  }
  return { alert, feedDirs };
}

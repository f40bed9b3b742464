/**
 * The operator log: what people did to the control layer outside any run — kill switches engaged
 * and released, credentials minted and revoked by hand, autonomy promoted and demoted. It is a
 * hash chain in its own append-only file (`<home>/audit/operator.jsonl`), each entry signed with
 * the audit key, because these commands must work at once while a run holds the store: a kill
 * switch may never wait for a database lock. `warden audit verify` checks it with the runs.
 */
import { createHash, sign, verify } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import lockfile from 'proper-lockfile';
import { canonicalJson } from '../store/index.js';
import type { SigningKey } from './keys.js';

export interface OperatorEvent {
  seq: number;
  /** Hash of the previous entry; 64 zeros for the first. */
  prev: string;
  at: string;
  type: string;
  /** Who did it (`--by`, else the login name). */
  by: string;
  data: Record<string, unknown>;
  hash: string;
  keyId: string;
  signature: string;
}

const GENESIS = '0'.repeat(64);

export function operatorLogPath(home: string): string {
  return join(home, 'audit', 'operator.jsonl');
}

function hashOf(entry: Pick<OperatorEvent, 'seq' | 'prev' | 'at' | 'type' | 'by' | 'data'>): string {
  const { seq, prev, at, type, by, data } = entry;
  return createHash('sha256').update(canonicalJson({ seq, prev, at, type, by, data })).digest('hex');
}

function lines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Appends one operator action, chained to the last and signed; serialised across processes. */
export async function appendOperatorEvent(
  home: string,
  key: SigningKey,
  action: { type: string; by: string; data: Record<string, unknown> },
  at: Date = new Date(),
): Promise<OperatorEvent> {
  if (!key.privateKey) throw new Error('a verify-only key cannot sign the operator log');
  const path = operatorLogPath(home);
  mkdirSync(dirname(path), { recursive: true });
  const release = await lockfile.lock(dirname(path), {
    lockfilePath: `${path}.lock`,
    realpath: false,
    stale: 10_000,
    retries: { retries: 100, factor: 1.2, minTimeout: 10, maxTimeout: 200 },
  });
  try {
    const last = lines(path)
      .filter((line) => line.trim() !== '')
      .at(-1);
    let previous: OperatorEvent | null = null;
    try {
      previous = last ? (JSON.parse(last) as OperatorEvent) : null;
    } catch {
      // A torn last line (a crash mid-append) is left for verify to report; chain past the last good one.
      previous = null;
    }
    const unsigned = {
      seq: (previous?.seq ?? 0) + 1,
      prev: previous?.hash ?? GENESIS,
      at: at.toISOString(),
      type: action.type,
      by: action.by,
      data: action.data,
    };
    const hash = hashOf(unsigned);
    const event: OperatorEvent = {
      ...unsigned,
      hash,
      keyId: key.keyId,
      signature: sign(null, Buffer.from(hash, 'hex'), key.privateKey).toString('base64'),
    };
    const descriptor = openSync(path, 'a');
    try {
      writeSync(descriptor, `${JSON.stringify(event)}\n`);
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    return event;
  } finally {
    await release();
  }
}

export type OperatorLogReport =
  | { status: 'ok'; events: number }
  | { status: 'broken'; events: number; firstBadSeq: number; problem: string };

/**
 * Checks every entry: parseable, numbered in order, chained to the one before, hash over its
 * content, signed by this key. An edited, inserted, deleted or reordered entry breaks it; names
 * the first bad sequence number. (Entries cut off the end leave a shorter valid log: each entry is
 * signed, the log as a whole is not.)
 */
export function verifyOperatorLog(home: string, key: SigningKey): OperatorLogReport {
  let expectedSeq = 1;
  let prev = GENESIS;
  const broken = (problem: string): OperatorLogReport => ({
    status: 'broken',
    events: expectedSeq - 1,
    firstBadSeq: expectedSeq,
    problem,
  });
  for (const [index, line] of lines(operatorLogPath(home)).entries()) {
    if (line.trim() === '') continue;
    let event: OperatorEvent;
    try {
      event = JSON.parse(line) as OperatorEvent;
    } catch {
      return broken(`line ${index + 1} is not valid JSON`);
    }
    if (event.seq !== expectedSeq)
      return broken(`line ${index + 1} has seq ${event.seq}, expected ${expectedSeq}`);
    if (event.prev !== prev) return broken(`entry ${event.seq} does not chain to the entry before it`);
    if (hashOf(event) !== event.hash) return broken(`entry ${event.seq} was changed after it was written`);
    const signed =
      event.keyId === key.keyId &&
      typeof event.signature === 'string' &&
      verify(null, Buffer.from(event.hash, 'hex'), key.publicKey, Buffer.from(event.signature, 'base64'));
    if (!signed) return broken(`entry ${event.seq} is not signed by this home's audit key`);
    prev = event.hash;
    expectedSeq++;
  }
  return { status: 'ok', events: expectedSeq - 1 };
}

/** The log's entries, for `warden audit show operator`; damaged lines are skipped. */
export function readOperatorLog(home: string): OperatorEvent[] {
  return lines(operatorLogPath(home)).flatMap((line) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line) as OperatorEvent];
    } catch {
      return [];
    }
  });
}

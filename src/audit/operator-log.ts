/**
 * The operator log: what people did to the control layer outside any run — kill switches engaged
 * and released, credentials minted and revoked by hand, autonomy promoted and demoted. It is a
 * hash chain in its own append-only file (`<home>/audit/operator.jsonl`), each entry signed with
 * the audit key, because these commands must work at once while a run holds the store: a kill
 * switch may never wait for a database lock. `warden audit verify` checks it with the runs.
 */
import { createHash, sign, verify } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from 'node:fs';
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

const tailChunk = 64 * 1024;

function parseEntry(line: string): OperatorEvent | null {
  try {
    const entry = JSON.parse(line) as Partial<OperatorEvent> | null;
    return entry && Number.isInteger(entry.seq) && typeof entry.hash === 'string'
      ? (entry as OperatorEvent)
      : null;
  } catch {
    return null;
  }
}

/**
 * The last entry that parses, read from the end of the file backwards (an append costs the same
 * however long the log is). A torn last line (a crash mid-append) is passed over, so the next entry
 * chains to the last good one; verify still reports the torn line.
 */
function lastEntry(path: string): OperatorEvent | null {
  let descriptor: number;
  try {
    descriptor = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    let end = fstatSync(descriptor).size;
    // The start of the earliest line seen so far, which may begin in the chunk before.
    let carry = Buffer.alloc(0);
    while (end > 0) {
      const start = Math.max(0, end - tailChunk);
      const chunk = Buffer.alloc(end - start);
      readSync(descriptor, chunk, 0, chunk.length, start);
      const bytes = Buffer.concat([chunk, carry]);
      // Before the first newline, a line may begin in the chunk before this one: split on bytes, so a
      // character cut by the chunk boundary is decoded only once whole.
      const cut = start === 0 ? -1 : bytes.indexOf(0x0a);
      if (start > 0 && cut < 0) {
        carry = bytes;
        end = start;
        continue;
      }
      const whole = bytes
        .subarray(cut + 1)
        .toString('utf8')
        .split('\n');
      for (let index = whole.length - 1; index >= 0; index--) {
        const line = whole[index]?.trim() ?? '';
        if (line === '') continue;
        const entry = parseEntry(line);
        if (entry) return entry;
      }
      carry = bytes.subarray(0, Math.max(cut, 0));
      end = start;
    }
    return null;
  } finally {
    closeSync(descriptor);
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
    const previous = lastEntry(path);
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

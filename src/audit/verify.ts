import {
  AUDIT_GENESIS_HASH,
  type AuditChainRow,
  type AuditEventRecord,
  auditBodyHash,
  auditEventHash,
} from '../store/index.js';
import type { Checkpoint } from './checkpoint.js';

export type ChainProblem = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'truncated' | 'checkpoint';

export type ChainReport =
  | { runId: string; status: 'ok'; events: number; checkpointedSeq: number | null }
  | {
      runId: string;
      status: 'broken';
      events: number;
      firstBadSeq: number;
      problem: ChainProblem;
      detail: string;
    };

type ChainEvent = AuditEventRecord | AuditChainRow;

/**
 * The hash an event should carry: the digest of its stored fields computed as they were read, or the
 * hash over its stored canonical text when there is one, else over its data.
 */
function expectedHash(event: ChainEvent): string {
  if ('digest' in event) return event.digest;
  return 'body' in event ? auditBodyHash(event.prevHash, event) : auditEventHash(event.prevHash, event);
}

/**
 * Walks one run's chain in storage order and names the first sequence number that is wrong:
 * a changed event (its hash no longer matches), a missing one (a gap), an extra one (a repeated
 * or out-of-place number), a reordering, or a tail cut below the last signed checkpoint.
 */
export function verifyChain(
  runId: string,
  events: readonly ChainEvent[],
  checkpoints: readonly Checkpoint[],
  checkpointProblems: readonly string[] = [],
): ChainReport {
  const broken = (firstBadSeq: number, problem: ChainProblem, detail: string): ChainReport => ({
    runId,
    status: 'broken',
    events: events.length,
    firstBadSeq,
    problem,
    detail,
  });
  // Where each hash stands, built only once a link is found broken (to tell a reordering).
  let positionOfHash: Map<string, number> | null = null;
  const positionOf = (hash: string) => {
    positionOfHash ??= new Map(events.map((event, index) => [event.hash, index]));
    return positionOfHash.get(hash) ?? -1;
  };
  let previous: ChainEvent | null = null;
  for (let index = 0; index < events.length; index++) {
    const event = events[index]!;
    const expected = index + 1;
    if (event.seq !== expected) {
      if (event.seq > expected) {
        // A later event stands where `expected` should: either missing, or moved here from further on.
        const moved = events.slice(index + 1).some((later) => later.seq === expected);
        return broken(
          expected,
          moved ? 'reordered' : 'deleted',
          `expected event ${expected}, found ${event.seq}`,
        );
      }
      const repeated = events.filter((other) => other.seq === event.seq).length > 1;
      return broken(
        expected,
        repeated ? 'inserted' : 'reordered',
        `event ${event.seq} appears again at position ${expected}`,
      );
    }
    const previousHash = previous?.hash ?? AUDIT_GENESIS_HASH;
    if (event.prevHash !== previousHash && positionOf(event.prevHash) > index) {
      return broken(
        expected,
        'reordered',
        `event ${expected} follows an event that now stands later in the trail`,
      );
    }
    if (previous && event.at < previous.at)
      return broken(expected, 'reordered', `event ${expected} is dated before event ${expected - 1}`);
    if (expectedHash(event) !== event.hash) {
      return broken(expected, 'edited', `event ${expected} (${event.type}) was changed after it was written`);
    }
    if (event.prevHash !== previousHash) {
      return broken(
        expected,
        'inserted',
        `event ${expected} does not link to event ${expected - 1}: it was inserted or put in place of another`,
      );
    }
    if (event.id !== `${runId}:${expected}`)
      return broken(expected, 'edited', `event ${expected} carries the id ${event.id}`);
    previous = event;
  }
  const [problem] = checkpointProblems;
  if (problem) return broken(events.length + 1, 'checkpoint', problem);
  let checkpointedSeq: number | null = null;
  for (const checkpoint of checkpoints) {
    // Every event checked out, so event n stands at position n - 1.
    const hash =
      Number.isSafeInteger(checkpoint.seq) && checkpoint.seq >= 1
        ? events[checkpoint.seq - 1]?.hash
        : undefined;
    if (hash === undefined) {
      return broken(
        events.length + 1,
        'truncated',
        `a signed checkpoint of ${checkpoint.at} covers ${checkpoint.seq} events, only ${events.length} remain`,
      );
    }
    if (hash !== checkpoint.hash)
      return broken(
        checkpoint.seq,
        'edited',
        `event ${checkpoint.seq} differs from the signed checkpoint of ${checkpoint.at}`,
      );
    checkpointedSeq = Math.max(checkpointedSeq ?? 0, checkpoint.seq);
  }
  return { runId, status: 'ok', events: events.length, checkpointedSeq };
}

/**
 * `verifyChain` over a chain read page by page, holding one page at a time: every check of an intact
 * chain is made as the pages come. The first time anything is off (or a checkpoint does not match),
 * the whole chain is read again by `readAll` and `verifyChain` names the problem, so the report is
 * the same as `verifyChain`'s over the whole chain.
 */
export async function verifyChainPages(
  runId: string,
  pages: AsyncIterable<readonly ChainEvent[]>,
  checkpoints: readonly Checkpoint[],
  checkpointProblems: readonly string[],
  readAll: () => Promise<readonly ChainEvent[]>,
): Promise<ChainReport> {
  const exactly = async () => verifyChain(runId, await readAll(), checkpoints, checkpointProblems);
  if (checkpointProblems.length > 0) return exactly();
  const wanted = new Map<number, string | null>();
  for (const checkpoint of checkpoints) wanted.set(checkpoint.seq, null);
  let expected = 1;
  let previousHash = AUDIT_GENESIS_HASH;
  let previousAt: string | null = null;
  for await (const page of pages) {
    for (const event of page) {
      if (
        event.seq !== expected ||
        event.prevHash !== previousHash ||
        (previousAt !== null && event.at < previousAt) ||
        expectedHash(event) !== event.hash ||
        event.id !== `${runId}:${expected}`
      )
        return exactly();
      if (wanted.has(expected)) wanted.set(expected, event.hash);
      previousHash = event.hash;
      previousAt = event.at;
      expected++;
    }
  }
  let checkpointedSeq: number | null = null;
  for (const checkpoint of checkpoints) {
    if (wanted.get(checkpoint.seq) !== checkpoint.hash) return exactly();
    checkpointedSeq = Math.max(checkpointedSeq ?? 0, checkpoint.seq);
  }
  return { runId, status: 'ok', events: expected - 1, checkpointedSeq };
}

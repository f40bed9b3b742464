import { sign, verify } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../store/index.js';
import type { SigningKey } from './keys.js';

/**
 * A signed statement "run R's chain had N events ending in hash H at time T". Kept apart from
 * the database, append-only, so truncating or rewriting the trail there cannot go unnoticed.
 */
export interface Checkpoint {
  runId: string;
  seq: number;
  hash: string;
  at: string;
  keyId: string;
  signature: string;
}

export function checkpointPath(home: string, runId: string): string {
  return join(home, 'audit', 'checkpoints', `${runId.replace(/[^A-Za-z0-9_.-]/g, '_')}.jsonl`);
}

function signedBytes(checkpoint: Omit<Checkpoint, 'signature'>): Buffer {
  const { runId, seq, hash, at, keyId } = checkpoint;
  return Buffer.from(canonicalJson({ runId, seq, hash, at, keyId }));
}

/** Signs and durably appends a checkpoint of a run's chain head. */
export function writeCheckpoint(
  home: string,
  key: SigningKey,
  head: { runId: string; seq: number; hash: string },
  at: Date,
): Checkpoint {
  if (!key.privateKey) throw new Error('a verify-only key cannot sign checkpoints');
  const unsigned = {
    runId: head.runId,
    seq: head.seq,
    hash: head.hash,
    at: at.toISOString(),
    keyId: key.keyId,
  };
  const checkpoint: Checkpoint = {
    ...unsigned,
    signature: sign(null, signedBytes(unsigned), key.privateKey).toString('base64'),
  };
  const path = checkpointPath(home, head.runId);
  mkdirSync(join(home, 'audit', 'checkpoints'), { recursive: true });
  appendFileSync(path, `${JSON.stringify(checkpoint)}\n`);
  const descriptor = openSync(path, 'r');
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  return checkpoint;
}

export type CheckpointRead = { checkpoints: Checkpoint[]; problems: string[] };

/** Reads a run's checkpoints, keeping only those whose signature verifies under `key`. */
export function readCheckpoints(home: string, runId: string, key: SigningKey): CheckpointRead {
  let text: string;
  try {
    text = readFileSync(checkpointPath(home, runId), 'utf8');
  } catch {
    return { checkpoints: [], problems: [] };
  }
  const checkpoints: Checkpoint[] = [];
  const problems: string[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    try {
      const checkpoint = JSON.parse(line) as Checkpoint;
      const valid =
        checkpoint.runId === runId &&
        checkpoint.keyId === key.keyId &&
        verify(null, signedBytes(checkpoint), key.publicKey, Buffer.from(checkpoint.signature, 'base64'));
      if (valid) checkpoints.push(checkpoint);
      else
        problems.push(
          `checkpoint line ${index + 1} does not verify (forged, edited, or signed by another key)`,
        );
    } catch {
      // A torn last line from a crash mid-append is expected; anything else is reported.
      problems.push(`checkpoint line ${index + 1} is not valid JSON`);
    }
  }
  return { checkpoints, problems };
}

/** Runs that have signed checkpoints, by the run id inside their first readable line. */
export function checkpointedRuns(home: string): string[] {
  const directory = join(home, 'audit', 'checkpoints');
  let files: string[];
  try {
    files = readdirSync(directory).filter((file) => file.endsWith('.jsonl'));
  } catch {
    return [];
  }
  const runs: string[] = [];
  for (const file of files) {
    const line = readFileSync(join(directory, file), 'utf8').split('\n')[0] ?? '';
    try {
      const { runId } = JSON.parse(line) as { runId?: unknown };
      if (typeof runId === 'string') runs.push(runId);
    } catch {
      // An unreadable first line is reported when that run is verified by name; nothing to list here.
    }
  }
  return runs.sort();
}

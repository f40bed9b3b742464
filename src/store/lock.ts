import path from 'node:path';
import lockfile from 'proper-lockfile';
import { StateError } from '../errors.js';

const RETRY_INTERVAL_MS = 200;

export interface StoreLockOptions {
  timeoutMs: number;
  /** A lock whose mtime is older than this is taken over; the holder refreshes it every staleMs / 2. */
  staleMs: number;
  /** Called (from a timer) when the lock could not be refreshed or was taken over. */
  onCompromised: (error: Error) => void;
}

/** Path of the lock that guards `<home>/db`. */
function storeLockPath(home: string): string {
  return path.join(home, 'db.lock');
}

/**
 * Takes the exclusive cross-process lock on a store home, waiting up to `timeoutMs`.
 * Returns the release function; throws StateError when another process keeps holding it.
 */
export async function acquireStoreLock(
  home: string,
  options: StoreLockOptions,
): Promise<() => Promise<void>> {
  const lockfilePath = storeLockPath(home);
  try {
    return await lockfile.lock(home, {
      lockfilePath,
      stale: options.staleMs,
      retries: {
        retries: Math.ceil(options.timeoutMs / RETRY_INTERVAL_MS),
        factor: 1,
        minTimeout: RETRY_INTERVAL_MS,
        maxTimeout: RETRY_INTERVAL_MS,
        maxRetryTime: options.timeoutMs,
      },
      onCompromised: options.onCompromised,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new StateError(
        `store at ${home} is busy: another process (or another open Store in this one) holds ${lockfilePath} (waited ${options.timeoutMs} ms). ` +
          'Wait for that process to finish or stop it, then retry; a lock left by a killed process expires after ' +
          `${Math.round(Math.max(options.staleMs, 2000) / 1000)} s.`,
        { cause: error },
      );
    }
    throw new StateError(`cannot lock store at ${home}: ${(error as Error).message}`, { cause: error });
  }
}

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import type { z } from 'zod';
import { StateError } from '../errors.js';
import { logger } from '../logging.js';

/**
 * A small JSON document on disk shared by every process using the same Warden home: reads
 * need no lock (writes are atomic renames), updates run under a cross-process lock.
 */
export interface JsonFile<T> {
  read(): T;
  /** Reads, applies `change` (which may mutate the state and return a result) and writes back. */
  update<R>(change: (state: T) => R): Promise<R>;
}

/** Binds `path` to a zod schema; a missing file reads as `empty()`. */
export function jsonFile<S extends z.ZodType>(
  path: string,
  schema: S,
  empty: () => z.infer<S>,
): JsonFile<z.infer<S>> {
  const read = (): z.infer<S> => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return empty();
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new StateError(`${path} is not valid JSON; fix or delete it`, { cause: error });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new StateError(`${path} does not have the expected shape; fix or delete it`, {
        cause: parsed.error,
      });
    }
    return parsed.data;
  };

  return {
    read,
    async update(change) {
      mkdirSync(dirname(path), { recursive: true });
      const release = await lockfile.lock(path, {
        realpath: false,
        stale: 10_000,
        retries: { retries: 100, factor: 1.2, minTimeout: 10, maxTimeout: 200 },
        // The default throws from a timer and would crash a long-running MCP server; the write is atomic anyway.
        onCompromised: (error) => logger.warn({ err: error, path }, 'state file lock compromised'),
      });
      try {
        const state = read();
        const result = change(state);
        writeAtomically(path, `${JSON.stringify(state, null, 2)}\n`);
        return result;
      } finally {
        await release();
      }
    },
  };
}

function writeAtomically(path: string, text: string): void {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, text, { encoding: 'utf8', mode: 0o600 });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

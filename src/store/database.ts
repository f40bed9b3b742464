import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { StateError } from '../errors.js';
import { decodeJson, decodeText, encodeJson, encodeText } from './codec.js';

/** The narrow query surface the tables use; rows come back with text and jsonb already decoded. */
export interface Sql {
  query<Row>(text: string, params?: unknown[]): Promise<Row[]>;
}

const pgliteOptions = {
  serializers: {
    [types.TEXT]: (value: unknown) => encodeText(String(value)),
    [types.JSONB]: encodeJson,
  },
  parsers: {
    [types.TEXT]: decodeText,
    [types.JSONB]: decodeJson,
  },
};

/**
 * Opens the PGlite data dir `<home>/db`, creating it when missing. Call only while holding the store lock;
 * `assertLocked` throws once that lock is lost.
 * A fresh database is built in its own `db.init-*` dir and renamed into place once complete, so a crash
 * during initdb never leaves a half-made `db` that would later be "resumed".
 */
export async function openDatabase(home: string, assertLocked: () => void): Promise<PGlite> {
  const dataDir = path.join(home, 'db');
  if (!isDatabaseDir(dataDir)) {
    for (const entry of fs.readdirSync(home)) {
      if (entry.startsWith('db.init-')) fs.rmSync(path.join(home, entry), { recursive: true, force: true });
    }
    const initDir = path.join(home, `db.init-${process.pid}-${randomBytes(4).toString('hex')}`);
    const fresh = await PGlite.create(initDir, pgliteOptions);
    await fresh.close();
    // initdb blocks the event loop for seconds; if that outlasted the stale window, another process owns the home now.
    assertLocked();
    fs.renameSync(initDir, dataDir);
  }
  return PGlite.create(dataDir, pgliteOptions);
}

/** True when `dataDir` holds a database; an empty dir is removed, a foreign non-empty one refused. */
function isDatabaseDir(dataDir: string): boolean {
  if (!fs.existsSync(dataDir)) return false;
  if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) return true;
  if (fs.readdirSync(dataDir).length === 0) {
    fs.rmdirSync(dataDir);
    return false;
  }
  throw new StateError(`${dataDir} exists but is not a Warden database; move it away or choose another home`);
}

/** PostgreSQL SQLSTATE of a database error, if it is one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';

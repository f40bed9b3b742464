import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { INTEGER, LIST, listValue, VARCHAR } from '@duckdb/node-api';
import type { LabDatabase } from './database.js';
import { rawDirOf, rawFileName } from './raw.js';
import { stagedCommandIdDigits } from './rows.js';
import {
  bulkInsertSql,
  copyCommandEventsSql,
  copyProcessesSql,
  createIndexesSql,
  insertCommandLinesSql,
  linkAuditParentsSql,
} from './schema.js';
import type { StagedCounts, StagingPaths } from './staging.js';
import { removeStaging } from './staging.js';

/** A source about to be staged: its id, the prefix of its event ids and where its staged files go. */
export interface FileTarget {
  readonly fileId: number;
  /** Prefix of this file's event ids (`<stem>-<line>`), unique in the store. */
  readonly stem: string;
  readonly staging: StagingPaths;
}

/** Adds files to a store opened read-write. */
export interface StoreWriter {
  /**
   * A target for the file, or null when a file with this content hash was loaded (or begun) before.
   * Staging (staging.ts) needs no database work, so files can be staged while others commit, in
   * parallel; commits must be made in `beginFile` order and must not overlap (they share the
   * connection's transaction): the store's `seq` and command-line ids are given out at commit.
   */
  beginFile(source: { path: string; sha256: string; stem: string }): FileTarget | null;
  /**
   * Inserts the staged events and records the file (a file with no event is not recorded), in the
   * open transaction, which is committed once it holds `eventsPerTransaction` events (else by `flush`
   * or `finish`). A failure rolls the whole transaction back: none of its files is recorded, so a
   * later load adds them.
   */
  commit(target: FileTarget, staged: StagedCounts, counts: { errors: number }): Promise<{ events: number }>;
  /** Forgets a target that will not be committed and removes its staged files. */
  abort(target: FileTarget): void;
  /** Commits the open transaction (what a load that stops on an error keeps). */
  flush(): Promise<void>;
  /**
   * Commits (`flush`), links Security 4688 parents and builds the lookup indexes (once; afterwards
   * inserts maintain them).
   */
  finish(): Promise<void>;
}

/**
 * Events inserted per transaction. A transaction of several sources costs DuckDB about a third less
 * CPU over the Security-Datasets folder (6 s against 9 s): full row groups go to the database file as
 * they are filled, compressed once, where a transaction per source (most hold a few thousand events)
 * wrote every row to the WAL and compressed it again at the checkpoint. Commits in between each cost
 * a partial row group rewritten at the checkpoint (the file grew by half with one per 131k events),
 * so they are rare; a failure loses at most this many events' sources, which a reload adds.
 */
export const eventsPerTransaction = 1_000_000;

interface Source {
  sha256: string;
  path: string;
  stem: string;
  /** The raw file, kept once the source is committed. */
  raw: string;
}

/**
 * Overwrites the staged `command_id` fields of a file (source-local indexes, fixed width) with the
 * store-wide ids: a few bytes per event with a command line, in place.
 */
function patchCommandIds(
  path: string,
  offsets: readonly number[],
  staged: StagedCounts,
  ids: readonly number[],
): void {
  if (offsets.length === 0) return;
  const fd = openSync(path, 'r+');
  try {
    const field = Buffer.alloc(stagedCommandIdDigits);
    for (const offset of offsets) {
      const digits = Buffer.alloc(stagedCommandIdDigits);
      // The local index as staged, read back: the id list is indexed by it.
      let read = 0;
      while (read < digits.length) read += readSync(fd, digits, read, digits.length - read, offset + read);
      const local = Number(digits.toString('latin1'));
      const id = ids[local - 1];
      if (id === undefined)
        throw new Error(
          `staged command index ${local} is not among the ${staged.commands.length} of the source`,
        );
      field.write(String(id).padStart(stagedCommandIdDigits, '0'), 'latin1');
      writeSync(fd, field, 0, field.length, offset);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Each source is staged beside the store (staging.ts) and read by one bulk insert per table.
 * Command lines are deduplicated here, lower-cased, into `command_lines`; events carry the id, and
 * those with one are also copied to `command_events`. The inserts run on one DuckDB thread: the
 * staged files are small and parsed while the next sources are staged, and with two threads on two
 * cores the inserts cost about 1.6x the CPU (measured over the Security-Datasets staged files:
 * 9.1 s against 5.6 s) that the staging of the next sources needs.
 */
export async function createStoreWriter(database: LabDatabase): Promise<StoreWriter> {
  const [next] = await database.all(
    `SELECT (SELECT coalesce(max(seq), 0) FROM events) AS seq, (SELECT coalesce(max(file_id), 0) FROM files) AS file_id,
       (SELECT coalesce(max(command_id), 0) FROM command_lines) AS command_id,
       current_setting('threads') AS threads`,
  );
  let seq = Number(next?.seq ?? 0);
  let fileId = Number(next?.file_id ?? 0);
  let commandId = Number(next?.command_id ?? 0);
  const threads = Number(next?.threads ?? 1);
  const loaded = await database.all('SELECT sha256, stem FROM files');
  const hashes = new Set(loaded.map((row) => String(row.sha256)));
  const stems = new Set(loaded.map((row) => String(row.stem)));
  const commands = new Map<string, number>();
  for (const row of await database.all('SELECT command_id, command_lower FROM command_lines'))
    commands.set(String(row.command_lower), Number(row.command_id));
  const rawDir = rawDirOf(database.path);
  mkdirSync(rawDir, { recursive: true, mode: 0o700 });
  await database.run('SET threads = 1');
  const sources = new Map<number, Source>();
  // The transaction holding the sources inserted since the last commit, and the counters before it.
  let open: {
    seq: number;
    commandId: number;
    newCommands: string[];
    sources: Source[];
    events: number;
  } | null = null;

  const forgetSource = (source: Source) => {
    hashes.delete(source.sha256);
    stems.delete(source.stem);
  };
  const forget = (target: FileTarget) => {
    const source = sources.get(target.fileId);
    sources.delete(target.fileId);
    if (source) forgetSource(source);
  };
  const commitOpen = async () => {
    if (!open) return;
    await database.run('COMMIT');
    open = null;
  };
  // Undoes the whole transaction: its sources are not recorded (their raw files go), so a later load adds them.
  const rollbackOpen = async () => {
    const group = open;
    if (!group) return;
    open = null;
    for (const source of group.sources) {
      forgetSource(source);
      rmSync(source.raw, { force: true });
    }
    for (const lower of group.newCommands) commands.delete(lower);
    seq = group.seq;
    commandId = group.commandId;
    // A COMMIT that failed may have ended the transaction already; the error that led here is the one thrown.
    await database.run('ROLLBACK').catch(() => undefined);
  };

  const flush = async () => {
    try {
      await commitOpen();
    } catch (error) {
      await rollbackOpen();
      throw error;
    }
  };

  return {
    beginFile(source) {
      if (hashes.has(source.sha256)) return null;
      const stem = stems.has(source.stem) ? `${source.stem}.${source.sha256.slice(0, 8)}` : source.stem;
      hashes.add(source.sha256);
      stems.add(stem);
      const id = ++fileId;
      const staging = join(dirname(database.path), `.staging-${process.pid}-${id}`);
      const raw = join(rawDir, rawFileName(source.sha256));
      sources.set(id, { sha256: source.sha256, path: source.path, stem, raw });
      return {
        fileId: id,
        stem,
        staging: {
          columns: `${staging}.csv`,
          // The lines of process starts and of events with a command line again, for `processes` and
          // `command_events` (a small share of all events: cheaper than scanning the file's rows in `events`).
          starts: `${staging}.starts.csv`,
          raw,
        },
      };
    },
    async commit(target, staged, { errors }) {
      const source = sources.get(target.fileId);
      if (!source) throw new Error(`file ${target.fileId} was not begun or is already committed`);
      const { events } = staged;
      let keepRaw = false;
      try {
        if (events === 0) {
          forget(target);
          return { events };
        }
        if (!open) {
          try {
            await database.run('BEGIN TRANSACTION');
          } catch (error) {
            forget(target);
            throw error;
          }
          open = { seq, commandId, newCommands: [], sources: [], events: 0 };
        }
        const group = open;
        // From here the transaction owns the source: kept when it commits, undone when it rolls back.
        sources.delete(target.fileId);
        group.sources.push(source);
        keepRaw = true;
        const base = seq;
        const firstCommandId = commandId;
        const newCommands: string[] = [];
        const ids = staged.commands.map((lower) => {
          let known = commands.get(lower);
          if (known === undefined) {
            known = ++commandId;
            commands.set(lower, known);
            newCommands.push(lower);
          }
          return known;
        });
        group.newCommands.push(...newCommands);
        seq = base + events;
        try {
          patchCommandIds(target.staging.columns, staged.commandFields.columns, staged, ids);
          patchCommandIds(target.staging.starts, staged.commandFields.starts, staged, ids);
          if (newCommands.length > 0)
            await database.run(
              insertCommandLinesSql,
              [firstCommandId, listValue(newCommands)],
              [INTEGER, LIST(VARCHAR)],
            );
          await database.run(bulkInsertSql, [target.staging.columns, base]);
          if (staged.processStarts > 0) await database.run(copyProcessesSql, [target.staging.starts, base]);
          if (staged.commandEvents > 0)
            await database.run(copyCommandEventsSql, [target.staging.starts, base]);
          // The time of this insert: now() would be the transaction's start, shared by its sources.
          await database.run(
            'INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, to_timestamp(?::DOUBLE / 1000)::TIMESTAMP, ?, ?)',
            [
              target.fileId,
              source.sha256,
              source.path,
              source.stem,
              events,
              errors,
              Date.now(),
              rawFileName(source.sha256),
              base,
            ],
          );
          group.events += events;
          if (group.events >= eventsPerTransaction) await commitOpen();
        } catch (error) {
          await rollbackOpen();
          throw error;
        }
        return { events };
      } finally {
        removeStaging(target.staging, { raw: !keepRaw });
      }
    },
    abort(target) {
      forget(target);
      removeStaging(target.staging, { raw: true });
    },
    flush,
    async finish() {
      await flush();
      await database.run(`SET threads = ${threads}`);
      await database.run(linkAuditParentsSql);
      await database.run(createIndexesSql);
    },
  };
}

import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LabEvent } from '../../capability/backends/types.js';
import type { LabDatabase } from './database.js';
import { stageFastLinesSql } from './normalise-sql.js';
import { rawDirOf, rawFileName, rawLine } from './raw.js';
import type { EventProvenance } from './rows.js';
import { eventLine } from './rows.js';
import {
  copyProcessesSql,
  createIndexesSql,
  createStagedSql,
  insertCommandLinesSql,
  insertStagedEventsSql,
  linkAuditParentsSql,
  stageColumnsSql,
} from './schema.js';

/** A line DuckDB could not normalise alone, handed back to the JavaScript normaliser at commit. */
export interface FlaggedLine {
  /** Its place in the raw file, which `append` may reuse when the record is kept as written. */
  seq: number;
  rawOffset: number;
  rawLength: number;
  line: number;
  /** The member handle `addMember` returned. */
  member: number;
  text: string;
}

/** Where an event's raw record already is (a flagged line kept as written). */
export type RawPlace = Pick<FlaggedLine, 'seq' | 'rawOffset' | 'rawLength'>;

/** Appends the events of one source file; nothing is visible until `commit`. */
export interface FileWriter {
  readonly fileId: number;
  /** Prefix of this file's event ids (`<stem>-<line>`), unique in the store. */
  readonly stem: string;
  /** Registers an archive member (or the file itself) for `appendLine`; returns its handle. */
  addMember(entry: string, stem: string): number;
  /**
   * Adds a JSON-lines line to be parsed and normalised by DuckDB at commit. The caller guarantees it
   * starts with `{`, is valid UTF-8 and holds no CR, U+0001 or NUL byte (such lines go through `append`).
   */
  appendLine(bytes: Buffer, line: number, member: number): void;
  /** Adds an event normalised in JavaScript, its raw record written unless `place` says where it is. */
  append(event: LabEvent, provenance: Omit<EventProvenance, 'seq'>, place?: RawPlace): void;
  /**
   * Normalises the lines, hands those DuckDB flagged to `reparse` (in line order; it calls `append` or
   * reports an error), commits the events and records the file. A file with no event is rolled back
   * and not recorded.
   */
  commit(options: {
    errors: () => number;
    reparse: (line: FlaggedLine) => void;
  }): Promise<{ events: number }>;
  abort(): Promise<void>;
}

/** Adds files to a store opened read-write, one transaction each. */
export interface StoreWriter {
  /**
   * A writer for the file, or null when a file with this content hash was loaded (or begun) before.
   * Staging needs no database work, so a file can be staged while the previous one commits;
   * commits must not overlap (each is one transaction on the shared connection).
   */
  beginFile(source: { path: string; sha256: string; stem: string }): FileWriter | null;
  /** Links Security 4688 parents and builds the lookup indexes (once; afterwards inserts maintain them). */
  finish(): Promise<void>;
}

/** The event id of a source line: `<stem>-<line>`, the line zero-padded to four digits. */
export function eventId(stem: string, line: number): string {
  return `${stem}-${String(line).padStart(4, '0')}`;
}

/** Bytes buffered before a write to a staging or raw file. */
const bufferBytes = 8 * 1024 * 1024;

/** An output file written in large chunks. */
interface Output {
  add(data: string | Buffer): void;
  flush(): void;
  close(): void;
}

function openOutput(path: string): Output {
  let fd: number | null = openSync(path, 'w', 0o600);
  const buffer = Buffer.allocUnsafe(bufferBytes);
  let used = 0;
  const flush = () => {
    if (fd === null || used === 0) return;
    let done = 0;
    while (done < used) done += writeSync(fd, buffer, done, used - done);
    used = 0;
  };
  return {
    add(data) {
      const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      if (used + size > buffer.length) flush();
      if (size > buffer.length) {
        if (fd !== null) writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
        return;
      }
      used += typeof data === 'string' ? buffer.write(data, used) : data.copy(buffer, used);
    },
    flush,
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
      used = 0;
    },
  };
}

const newline = Buffer.from('\n');

/**
 * Each source's raw records go to its raw file (raw.ts), which stays: JSON lines as read (`appendLine`,
 * beside a line index), other records as written by `append` (beside their columns, normalised in
 * JavaScript). At commit DuckDB reads the raw file back on all cores and normalises the indexed lines
 * (normalise-sql.ts) into `staged`, the JavaScript rows join them, and one insert moves them to
 * `events`; command lines are deduplicated, lower-cased, into `command_lines`.
 */
export async function createStoreWriter(database: LabDatabase): Promise<StoreWriter> {
  const [next] = await database.all(
    `SELECT (SELECT coalesce(max(seq), 0) FROM events) AS seq, (SELECT coalesce(max(file_id), 0) FROM files) AS file_id`,
  );
  let seq = Number(next?.seq ?? 0);
  let fileId = Number(next?.file_id ?? 0);
  const loaded = await database.all('SELECT sha256, stem FROM files');
  const hashes = new Set(loaded.map((row) => String(row.sha256)));
  const stems = new Set(loaded.map((row) => String(row.stem)));
  const rawDir = rawDirOf(database.path);
  mkdirSync(rawDir, { recursive: true, mode: 0o700 });

  return {
    beginFile(source) {
      if (hashes.has(source.sha256)) return null;
      const stem = stems.has(source.stem) ? `${source.stem}.${source.sha256.slice(0, 8)}` : source.stem;
      hashes.add(source.sha256);
      stems.add(stem);
      const id = ++fileId;
      const staging = join(dirname(database.path), `.staging-${process.pid}-${id}`);
      const columnsPath = `${staging}.ndjson`;
      const indexPath = `${staging}.index.csv`;
      const rawFile = rawFileName(source.sha256);
      const rawPath = join(rawDir, rawFile);
      // A raw file left by a store deleted since is replaced (unlinked first: it may be a hard link).
      rmSync(rawPath, { force: true });
      const outputs = {
        columns: openOutput(columnsPath),
        index: openOutput(indexPath),
        raw: openOutput(rawPath),
      };
      const members: Array<{ entry: string; stem: string }> = [];
      let open = true;
      let rawBytes = 0;
      let events = 0;
      let lines = 0;
      const forget = () => {
        hashes.delete(source.sha256);
        stems.delete(stem);
      };
      const closeAll = () => {
        open = false;
        outputs.columns.close();
        outputs.index.close();
        outputs.raw.close();
        rmSync(columnsPath, { force: true });
        rmSync(indexPath, { force: true });
      };
      const writer: FileWriter = {
        fileId: id,
        stem,
        addMember(entry, memberStem) {
          members.push({ entry, stem: memberStem });
          return members.length - 1;
        },
        appendLine(bytes, line, member) {
          if (!open) throw new Error('append after commit or abort');
          const eventSeq = ++seq;
          const prefix = `${eventSeq}\u0001`;
          const rawOffset = rawBytes + prefix.length;
          outputs.raw.add(prefix);
          outputs.raw.add(bytes);
          outputs.raw.add(newline);
          rawBytes = rawOffset + bytes.length + 1;
          outputs.index.add(`${eventSeq},${rawOffset},${bytes.length},${line},${member}\n`);
          lines += 1;
        },
        append(event, provenance, place) {
          if (!open) throw new Error('append after commit or abort');
          let stored: RawPlace;
          if (place) stored = place;
          else {
            const eventSeq = ++seq;
            const raw = rawLine(provenance.rawJson);
            const prefix = `${eventSeq}\u0001`;
            const rawOffset = rawBytes + prefix.length;
            const rawLength = Buffer.byteLength(raw);
            outputs.raw.add(`${prefix}${raw}\n`);
            rawBytes = rawOffset + rawLength + 1;
            stored = { seq: eventSeq, rawOffset, rawLength };
          }
          outputs.columns.add(eventLine(event, { ...provenance, seq: stored.seq }, stored));
          events += 1;
        },
        async commit({ errors, reparse }) {
          let committed = false;
          let began = false;
          try {
            if (events === 0 && lines === 0) {
              forget();
              return { events: 0 };
            }
            outputs.raw.flush();
            outputs.index.flush();
            await database.run('BEGIN TRANSACTION');
            began = true;
            await database.run(createStagedSql);
            if (lines > 0) {
              for (const [member, { entry, stem: memberStem }] of members.entries())
                await database.run('INSERT INTO staged_members VALUES (?, ?, ?)', [
                  member,
                  entry,
                  memberStem,
                ]);
              await database.run(stageFastLinesSql(), [rawPath, indexPath]);
              const flagged = await database.all(
                'SELECT seq, raw_offset, raw_length, line, member FROM staged WHERE NOT ok ORDER BY seq',
              );
              if (flagged.length > 0) {
                const fd = openSync(rawPath, 'r');
                try {
                  for (const row of flagged) {
                    const rawOffset = Number(row.raw_offset);
                    const rawLength = Number(row.raw_length);
                    const bytes = Buffer.allocUnsafe(rawLength);
                    let got = 0;
                    while (got < rawLength) got += readSync(fd, bytes, got, rawLength - got, rawOffset + got);
                    reparse({
                      seq: Number(row.seq),
                      rawOffset,
                      rawLength,
                      line: Number(row.line),
                      member: Number(row.member),
                      text: bytes.toString('utf8'),
                    });
                  }
                } finally {
                  closeSync(fd);
                }
              }
              outputs.raw.flush();
            }
            outputs.columns.flush();
            if (events > 0) await database.run(stageColumnsSql, [columnsPath]);
            const [count] = await database.all('SELECT count(*) AS n FROM staged WHERE ok');
            const total = Number(count?.n ?? 0);
            if (total === 0) {
              forget();
              await database.run('ROLLBACK');
              began = false;
              return { events: 0 };
            }
            await database.run(insertCommandLinesSql);
            await database.run(insertStagedEventsSql, [id]);
            await database.run(copyProcessesSql, [id]);
            await database.run('INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?)', [
              id,
              source.sha256,
              source.path,
              stem,
              total,
              errors(),
              rawFile,
            ]);
            await database.run('DROP TABLE staged; DROP TABLE staged_members');
            await database.run('COMMIT');
            committed = true;
            return { events: total };
          } catch (error) {
            forget();
            if (began) await database.run('ROLLBACK');
            throw error;
          } finally {
            closeAll();
            if (!committed) rmSync(rawPath, { force: true });
          }
        },
        async abort() {
          forget();
          closeAll();
          rmSync(rawPath, { force: true });
        },
      };
      return writer;
    },
    async finish() {
      await database.run(linkAuditParentsSql);
      await database.run(createIndexesSql);
    },
  };
}

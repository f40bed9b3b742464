import { isUtf8 } from 'node:buffer';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LabEvent } from '../../capability/backends/types.js';
import type { LabDatabase } from './database.js';
import { rawDirOf, rawFileName, rawLine } from './raw.js';
import type { EventProvenance } from './rows.js';
import { eventLine } from './rows.js';
import {
  bulkInsertSql,
  copyCommandEventsSql,
  copyProcessesSql,
  createIndexesSql,
  insertCommandLinesSql,
  linkAuditParentsSql,
} from './schema.js';

/** Appends the events of one source file; nothing is visible until `commit`. */
export interface FileWriter {
  readonly fileId: number;
  /** Prefix of this file's event ids (`<stem>-<line>`), unique in the store. */
  readonly stem: string;
  append(event: LabEvent, provenance: Omit<EventProvenance, 'seq' | 'fileId'>): void;
  /** Commits the events and records the file; a file with no event is rolled back and not recorded. */
  commit(counts: { errors: number }): Promise<{ events: number }>;
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

/** An output file written in large chunks from one reused buffer. */
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
      if (typeof data === 'string') {
        // A string encodes to at most three bytes per UTF-16 unit: with that much room, no measuring.
        if (buffer.length - used < data.length * 3 && used + Buffer.byteLength(data) > buffer.length) flush();
        if (buffer.length - used < data.length * 3 && Buffer.byteLength(data) > buffer.length) {
          if (fd !== null) writeSync(fd, data);
          return;
        }
        used += buffer.write(data, used);
        return;
      }
      if (used + data.length > buffer.length) flush();
      if (data.length > buffer.length) {
        if (fd !== null) writeSync(fd, data);
        return;
      }
      // TypedArray set: Buffer#copy builds a view per call, which costs more than the copy of a line.
      buffer.set(data, used);
      used += data.length;
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
 * True when a source line's bytes can be its raw-file line as they are: valid UTF-8 (else the text
 * holds replacement characters) without the CR and U+0001 `rawLine` replaces.
 */
function isRawReady(bytes: Buffer): boolean {
  return bytes.indexOf(13) === -1 && bytes.indexOf(1) === -1 && isUtf8(bytes);
}

/**
 * Each source is staged beside the store: its normalised columns as CSV lines in a temp file, read by
 * one bulk insert (DuckDB parses them on all cores, overlapping the reading of the next file), and its
 * raw records in the source's raw file (raw.ts), which stays. Command lines are deduplicated here,
 * lower-cased, into `command_lines`; events carry the id, and those with one are also copied to
 * `command_events`.
 */
export async function createStoreWriter(database: LabDatabase): Promise<StoreWriter> {
  const [next] = await database.all(
    `SELECT (SELECT coalesce(max(seq), 0) FROM events) AS seq, (SELECT coalesce(max(file_id), 0) FROM files) AS file_id,
       (SELECT coalesce(max(command_id), 0) FROM command_lines) AS command_id`,
  );
  let seq = Number(next?.seq ?? 0);
  let fileId = Number(next?.file_id ?? 0);
  let commandId = Number(next?.command_id ?? 0);
  const loaded = await database.all('SELECT sha256, stem FROM files');
  const hashes = new Set(loaded.map((row) => String(row.sha256)));
  const stems = new Set(loaded.map((row) => String(row.stem)));
  const commands = new Map<string, number>();
  for (const row of await database.all('SELECT command_id, command_lower FROM command_lines'))
    commands.set(String(row.command_lower), Number(row.command_id));
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
      const columnsPath = `${staging}.csv`;
      const commandsPath = `${staging}.commands.ndjson`;
      // The lines of process starts and of events with a command line again, for `processes` and
      // `command_events` (a small share of all events: cheaper than scanning the file's rows in `events`).
      const startsPath = `${staging}.starts.csv`;
      const rawFile = rawFileName(source.sha256);
      const rawPath = join(rawDir, rawFile);
      // A raw file left by a store deleted since is replaced (unlinked first: it may be a hard link).
      rmSync(rawPath, { force: true });
      const outputs = {
        columns: openOutput(columnsPath),
        commands: openOutput(commandsPath),
        starts: openOutput(startsPath),
        raw: openOutput(rawPath),
      };
      let open = true;
      let rawBytes = 0;
      let events = 0;
      let commandEvents = 0;
      let processStarts = 0;
      let newCommands: string[] = [];
      const forget = () => {
        hashes.delete(source.sha256);
        stems.delete(stem);
        for (const command of newCommands) commands.delete(command);
        newCommands = [];
      };
      const closeAll = () => {
        open = false;
        outputs.columns.close();
        outputs.commands.close();
        outputs.starts.close();
        outputs.raw.close();
        rmSync(columnsPath, { force: true });
        rmSync(commandsPath, { force: true });
        rmSync(startsPath, { force: true });
      };
      // Most events (network, registry, image loads) carry an empty command line: no id, so the
      // column stays sparse and its scan cheap; a search for the empty string tests the text instead.
      const commandIdOf = (commandLine: string | undefined): number | null => {
        if (commandLine === undefined || commandLine === '') return null;
        const lower = commandLine.toLowerCase();
        let known = commands.get(lower);
        if (known === undefined) {
          known = ++commandId;
          commands.set(lower, known);
          newCommands.push(lower);
          outputs.commands.add(`${JSON.stringify({ command_id: known, command_lower: lower })}\n`);
        }
        return known;
      };
      return {
        fileId: id,
        stem,
        append(event, provenance) {
          if (!open) throw new Error('append after commit or abort');
          const eventSeq = ++seq;
          const prefix = `${eventSeq}\u0001`;
          const rawOffset = rawBytes + prefix.length;
          const { rawBytes: bytes } = provenance;
          let rawLength: number;
          outputs.raw.add(prefix);
          if (bytes && isRawReady(bytes)) {
            rawLength = bytes.length;
            outputs.raw.add(bytes);
            outputs.raw.add(newline);
          } else {
            const raw = rawLine(provenance.rawJson);
            rawLength = Buffer.byteLength(raw);
            outputs.raw.add(`${raw}\n`);
          }
          rawBytes = rawOffset + rawLength + 1;
          const commandId = commandIdOf(event.process?.commandLine);
          const line = eventLine(
            event,
            { ...provenance, seq: eventSeq, fileId: id },
            { commandId, rawOffset, rawLength },
          );
          outputs.columns.add(line);
          events += 1;
          const isStart = event.action === 'process_start';
          if (isStart) processStarts += 1;
          if (commandId !== null) commandEvents += 1;
          if (isStart || commandId !== null) outputs.starts.add(line);
        },
        async commit({ errors }) {
          let committed = false;
          try {
            if (events === 0) {
              forget();
              return { events };
            }
            outputs.columns.flush();
            outputs.commands.flush();
            outputs.starts.flush();
            outputs.raw.flush();
            await database.run('BEGIN TRANSACTION');
            try {
              if (newCommands.length > 0) await database.run(insertCommandLinesSql, [commandsPath]);
              await database.run(bulkInsertSql, [columnsPath]);
              if (processStarts > 0) await database.run(copyProcessesSql, [startsPath]);
              if (commandEvents > 0) await database.run(copyCommandEventsSql, [startsPath]);
              await database.run('INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?)', [
                id,
                source.sha256,
                source.path,
                stem,
                events,
                errors,
                rawFile,
              ]);
              await database.run('COMMIT');
              committed = true;
            } catch (error) {
              forget();
              await database.run('ROLLBACK');
              throw error;
            }
            return { events };
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
    },
    async finish() {
      await database.run(linkAuditParentsSql);
      await database.run(createIndexesSql);
    },
  };
}

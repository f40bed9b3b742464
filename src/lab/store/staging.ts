import { isUtf8 } from 'node:buffer';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import type { LabEvent } from '../../capability/backends/types.js';
import { rawLine } from './raw.js';
import type { EventProvenance, LineSpace } from './rows.js';
import { writeEventLine } from './rows.js';

/**
 * Staging of one source's events, apart from the database so a worker thread can do it (loaders/stage.ts):
 * its normalised columns as CSV lines, the lines of its process starts and command-line events again,
 * and its raw records in the source's raw file (raw.ts), which stays. Everything written depends on
 * the source alone: `seq` is the event's number within the source (1, 2, …; the writer adds the
 * store's base at commit, and the raw file's `<seq>` prefix stays source-local) and `command_id` the
 * index (1-based) of its lower-cased command line among the source's distinct ones, which the writer
 * maps to store-wide ids at commit. So sources can be staged in parallel and still be numbered as if
 * loaded one after another.
 */

/** Where a source is staged: CSV files removed after the commit, and the raw file, which stays. */
export interface StagingPaths {
  columns: string;
  starts: string;
  raw: string;
}

/** What a staged source holds. */
export interface StagedCounts {
  events: number;
  processStarts: number;
  commandEvents: number;
  /** The source's distinct lower-cased command lines, in first-seen order: `command_id` is an index here. */
  commands: string[];
  /**
   * Where the staged `command_id` fields are (byte offsets in the columns and starts files, the same
   * event at the same index), for the writer to overwrite with store-wide ids (rows.ts `eventLine`).
   */
  commandFields: { columns: number[]; starts: number[] };
}

export interface SourceStager {
  append(event: LabEvent, provenance: Omit<EventProvenance, 'seq' | 'fileId'>): void;
  /** Flushes and closes the files. */
  finish(): StagedCounts;
  /** Closes and removes every staged file, the raw file included. */
  discard(): void;
}

/**
 * Bytes buffered before a write to a staging or raw file. 1 MB rather than 8: three fresh 8 MB buffers
 * per source (faulted in page by page) and the cache they pushed out cost staging ~15% more CPU over
 * the Security-Datasets folder; 256 kB measured the same as 1 MB.
 */
const bufferBytes = 1024 * 1024;

/** An output file written in large chunks from one reused buffer. */
interface Output {
  add(data: string | Buffer): void;
  /** Room for a line of at most that many bytes: in the buffer (flushed first when short), or apart. */
  space: LineSpace;
  /** Takes the `length` bytes written in the space last given; returns them (valid until the next write). */
  advance(length: number): Buffer;
  /** Bytes added so far. */
  position(): number;
  flush(): void;
  close(): void;
}

function openOutput(path: string): Output {
  let fd: number | null = openSync(path, 'w', 0o600);
  const buffer = Buffer.allocUnsafe(bufferBytes);
  let used = 0;
  let flushed = 0;
  // A line too long for the buffer is written in one of its own.
  let apart: Buffer | null = null;
  const flush = () => {
    if (fd === null || used === 0) return;
    let done = 0;
    while (done < used) done += writeSync(fd, buffer, done, used - done);
    flushed += used;
    used = 0;
  };
  return {
    space(bytes) {
      if (bytes > buffer.length) {
        apart = Buffer.allocUnsafe(bytes);
        return { buffer: apart, at: 0 };
      }
      apart = null;
      if (used + bytes > buffer.length) flush();
      return { buffer, at: used };
    },
    advance(length) {
      if (apart) {
        const line = apart.subarray(0, length);
        apart = null;
        flush();
        if (fd !== null) flushed += writeSync(fd, line);
        return line;
      }
      used += length;
      return buffer.subarray(used - length, used);
    },
    add(data) {
      if (typeof data === 'string') {
        // A string encodes to at most three bytes per UTF-16 unit: with that much room, no measuring.
        if (buffer.length - used < data.length * 3 && used + Buffer.byteLength(data) > buffer.length) flush();
        if (buffer.length - used < data.length * 3 && Buffer.byteLength(data) > buffer.length) {
          if (fd !== null) flushed += writeSync(fd, data);
          return;
        }
        used += buffer.write(data, used);
        return;
      }
      if (used + data.length > buffer.length) flush();
      if (data.length > buffer.length) {
        if (fd !== null) flushed += writeSync(fd, data);
        return;
      }
      // TypedArray set: Buffer#copy builds a view per call, which costs more than the copy of a line.
      buffer.set(data, used);
      used += data.length;
    },
    position: () => flushed + used,
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
 * Opens the staging files of a source (the raw file is replaced: a file left by a store deleted
 * since may be a hard link, so it is unlinked first).
 */
export function createSourceStager(paths: StagingPaths, fileId: number): SourceStager {
  rmSync(paths.raw, { force: true });
  const outputs = {
    columns: openOutput(paths.columns),
    starts: openOutput(paths.starts),
    raw: openOutput(paths.raw),
  };
  let rawBytes = 0;
  let events = 0;
  let commandEvents = 0;
  let processStarts = 0;
  const commands = new Map<string, number>();
  const commandFields: StagedCounts['commandFields'] = { columns: [], starts: [] };
  // Most events (network, registry, image loads) carry an empty command line: no id, so the
  // column stays sparse and its scan cheap; a search for the empty string tests the text instead.
  const commandIndexOf = (commandLine: string | undefined): number | null => {
    if (commandLine === undefined || commandLine === '') return null;
    const lower = commandLine.toLowerCase();
    let known = commands.get(lower);
    if (known === undefined) {
      known = commands.size + 1;
      commands.set(lower, known);
    }
    return known;
  };
  const closeAll = () => {
    outputs.columns.close();
    outputs.starts.close();
    outputs.raw.close();
  };
  let open = true;
  return {
    append(event, provenance) {
      if (!open) throw new Error('append after the staging was finished');
      const seq = events + 1;
      const prefix = `${seq}\u0001`;
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
      const commandId = commandIndexOf(event.process?.commandLine);
      const columnsAt = outputs.columns.position();
      const { length, commandAt } = writeEventLine(
        outputs.columns.space,
        event,
        { ...provenance, seq, fileId },
        { commandId, rawOffset, rawLength },
      );
      const line = outputs.columns.advance(length);
      const isStart = event.action === 'process_start';
      if (commandAt >= 0) {
        commandFields.columns.push(columnsAt + commandAt);
        commandFields.starts.push(outputs.starts.position() + commandAt);
      }
      events = seq;
      if (isStart) processStarts += 1;
      if (commandId !== null) commandEvents += 1;
      if (isStart || commandId !== null) outputs.starts.add(line);
    },
    finish() {
      if (open) {
        outputs.columns.flush();
        outputs.starts.flush();
        outputs.raw.flush();
        closeAll();
        open = false;
      }
      return { events, processStarts, commandEvents, commands: [...commands.keys()], commandFields };
    },
    discard() {
      open = false;
      closeAll();
      removeStaging(paths, { raw: true });
    },
  };
}

/** Removes a source's staged CSV files, and its raw file too when `raw` is set. */
export function removeStaging(paths: StagingPaths, options: { raw: boolean }): void {
  rmSync(paths.columns, { force: true });
  rmSync(paths.starts, { force: true });
  if (options.raw) rmSync(paths.raw, { force: true });
}

import { closeSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StateError } from '../../errors.js';
import type { LabDatabase, Row } from './database.js';

/**
 * Raw records live beside the store, not in it: one append-only file per loaded source,
 * `<lab>/events.raw/<sha256>.jsonl`, a line per event: `<n>` U+0001 `<record as JSON>`, where `n` is
 * the event's number within the source (its `seq` is the file's `seq_base` + n: sources are staged in
 * parallel, before the store numbers them). `events` keeps each record's byte offset and length. Storing the records (about 2 kB each, 1 GB over the
 * Security-Datasets folder) as a DuckDB string column took most of the ingest time; here they are
 * written once, and the `<seq>` prefix lets DuckDB's CSV reader search them for free text.
 */
export function rawDirOf(databasePath: string): string {
  return join(dirname(databasePath), 'events.raw');
}

/** The raw file name of a source, by content hash (stable across rebuilds of the store). */
export function rawFileName(sha256: string): string {
  return `${sha256}.jsonl`;
}

/**
 * The raw record as its raw-file line, read back by the CSV reader as one column whose delimiter is
 * U+0001. Valid JSON holds control characters only escaped, or (CR) as whitespace between tokens,
 * where a space means the same and cannot end the line early.
 */
export function rawLine(rawJson: string): string {
  let line = rawJson;
  if (line.includes('\u0001')) line = line.replaceAll('\u0001', '\\u0001');
  if (line.includes('\r')) line = line.replaceAll('\r', ' ');
  return line;
}

/** Reads raw records back by `file_id`, `raw_offset` and `raw_length`. */
export interface RawReader {
  /** The records of the rows, in row order; adjacent ranges of one file are read together. */
  read(rows: readonly Row[]): Promise<string[]>;
  /** The raw files of these file ids (all files when null). */
  paths(fileIds: readonly number[] | null): Promise<RawFile[]>;
}

/** A raw file's absolute path and the `seq` its line numbers are added to. */
export interface RawFile {
  path: string;
  seqBase: number;
}

const readers = new WeakMap<LabDatabase, RawReader>();

/** The raw reader of an open store (one per database; file paths are cached, files are opened per read). */
export function rawReaderOf(database: LabDatabase): RawReader {
  let reader = readers.get(database);
  if (!reader) {
    reader = createRawReader(database);
    readers.set(database, reader);
  }
  return reader;
}

/** Bytes read at once when consecutive records of a file are fetched together. */
const maxSpan = 8 * 1024 * 1024;

function createRawReader(database: LabDatabase): RawReader {
  const dir = rawDirOf(database.path);
  const files = new Map<number, RawFile>();
  const refresh = async () => {
    for (const row of await database.all('SELECT file_id, raw_file, seq_base FROM files'))
      files.set(Number(row.file_id), {
        path: join(dir, String(row.raw_file)),
        seqBase: Number(row.seq_base),
      });
  };
  const pathOf = async (fileId: number): Promise<string> => {
    if (!files.has(fileId)) await refresh();
    const file = files.get(fileId);
    if (file === undefined)
      throw new StateError(`the lab store has events of file ${fileId} but no record of it`);
    return file.path;
  };
  return {
    async read(rows) {
      const out = new Array<string>(rows.length);
      let index = 0;
      while (index < rows.length) {
        const first = rows[index] as Row;
        const fileId = Number(first.file_id);
        const start = Number(first.raw_offset);
        let end = start + Number(first.raw_length);
        let last = index + 1;
        // Extend over following rows of the same file that lie just after (load order reads the file once).
        while (last < rows.length) {
          const row = rows[last] as Row;
          const offset = Number(row.raw_offset);
          const rowEnd = offset + Number(row.raw_length);
          if (
            Number(row.file_id) !== fileId ||
            offset < end ||
            offset - end > 4096 ||
            rowEnd - start > maxSpan
          )
            break;
          end = rowEnd;
          last += 1;
        }
        const path = await pathOf(fileId);
        const buffer = Buffer.allocUnsafe(end - start);
        let fd: number;
        try {
          fd = openSync(path, 'r');
        } catch (error) {
          throw new StateError(
            `the raw records of the lab store are missing (${path}); delete ${database.path} and load the data again`,
            { cause: error },
          );
        }
        try {
          let got = 0;
          while (got < buffer.length) {
            const n = readSync(fd, buffer, got, buffer.length - got, start + got);
            if (n === 0) throw new StateError(`the raw file ${path} is shorter than the store expects`);
            got += n;
          }
        } finally {
          closeSync(fd);
        }
        for (let at = index; at < last; at += 1) {
          const row = rows[at] as Row;
          const offset = Number(row.raw_offset) - start;
          out[at] = buffer.toString('utf8', offset, offset + Number(row.raw_length));
        }
        index = last;
      }
      return out;
    },
    async paths(fileIds) {
      await refresh();
      if (fileIds === null) return [...files.values()];
      return fileIds.map((id) => files.get(id)).filter((file): file is RawFile => file !== undefined);
    },
  };
}

/** A SQL string literal. */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Longest raw-file line the free-text search reads. */
const maxRawLineBytes = 64 * 1024 * 1024;

/**
 * A subquery of the `seq` of events whose raw record (a column `raw`) meets `condition`, over the
 * given raw files (at least one). The buffer is set: DuckDB's default is 16 times the line limit (1 GB),
 * which made a search of every Security-Datasets raw file cost 1.5x the CPU (13.7 s against 8.7 s).
 */
export function rawMatchSql(files: readonly RawFile[], condition: string): string {
  const bases = files.map((file) => `(${literal(file.path)}, ${file.seqBase})`).join(', ');
  return `SELECT r.n + b.seq_base FROM read_csv([${files.map((file) => literal(file.path)).join(', ')}],
    auto_detect=false, delim=chr(1), quote='', escape='', header=false, new_line='\\n',
    columns={'n': 'BIGINT', 'raw': 'VARCHAR'}, filename=true,
    max_line_size=${maxRawLineBytes}, buffer_size=${2 * maxRawLineBytes}) AS r
    JOIN (VALUES ${bases}) AS b(path, seq_base) ON r.filename = b.path WHERE ${condition}`;
}

/**
 * Just enough of PostgreSQL's frontend/backend protocol (v3) to read rows of text columns from the
 * raw messages of a simple query: what the audit chain read uses instead of the driver's row parsing.
 */

import type { PGlite } from '@electric-sql/pglite';

/**
 * Runs `text` by the simple query protocol, exclusively (as the driver's own queries are), and returns
 * the backend's messages unparsed: in `into` when given (reused query after query, so its memory is
 * not allocated afresh each time; the result is valid until its next use).
 */
export async function rawQuery(db: PGlite, text: string, into?: ResponseBuffer): Promise<Buffer> {
  const response = into ?? new ResponseBuffer();
  response.clear();
  await db.runExclusive(() =>
    db.execProtocolRawStream(simpleQuery(text), {
      syncToFs: false,
      onRawData: (chunk) => response.add(chunk),
    }),
  );
  return response.bytes();
}

/** A simple-protocol Query message ('Q') carrying `text`. */
function simpleQuery(text: string): Uint8Array {
  const body = Buffer.from(text, 'utf8');
  const message = Buffer.alloc(body.length + 6);
  message[0] = 0x51;
  message.writeInt32BE(body.length + 5, 1);
  body.copy(message, 5);
  return message;
}

/** Collects a response's chunks (views into the engine's memory, valid only during the call) into one buffer. */
export class ResponseBuffer {
  private buffer: Buffer;
  private used = 0;

  /** `bytes`: the expected size of a response; it grows (by doubling, with a copy) past that. */
  constructor(bytes = 1 << 16) {
    this.buffer = Buffer.allocUnsafe(bytes);
  }

  add(chunk: Uint8Array): void {
    if (this.used + chunk.length > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + chunk.length));
      grown.set(this.buffer.subarray(0, this.used));
      this.buffer = grown;
    }
    this.buffer.set(chunk, this.used);
    this.used += chunk.length;
  }

  clear(): void {
    this.used = 0;
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.used);
  }
}

const DATA_ROW = 0x44; // 'D'
const ERROR = 0x45; // 'E'

/**
 * Calls `row` with the offsets of each DataRow's fields (`starts[i]`, `ends[i]`; a NULL has start -1),
 * in order; throws the first ErrorResponse as an Error with the server's message. Other messages
 * (row description, command complete, notices, ready for query) are skipped.
 */
export function forEachDataRow(
  response: Buffer,
  columns: number,
  row: (starts: Int32Array, ends: Int32Array) => void,
): void {
  const starts = new Int32Array(columns);
  const ends = new Int32Array(columns);
  let offset = 0;
  while (offset + 5 <= response.length) {
    const type = response[offset]!;
    const next = offset + 1 + response.readInt32BE(offset + 1);
    if (next > response.length) throw new Error('truncated database response');
    if (type === DATA_ROW) {
      if (response.readInt16BE(offset + 5) !== columns)
        throw new Error(`database row has ${response.readInt16BE(offset + 5)} fields, expected ${columns}`);
      let field = offset + 7;
      for (let index = 0; index < columns; index++) {
        const length = response.readInt32BE(field);
        field += 4;
        starts[index] = length < 0 ? -1 : field;
        ends[index] = length < 0 ? -1 : field + length;
        if (length > 0) field += length;
      }
      row(starts, ends);
    } else if (type === ERROR) {
      throw new Error(errorMessage(response, offset + 5, next));
    }
    offset = next;
  }
}

/** The 'M' (message) field of an ErrorResponse, with its SQLSTATE ('C'). */
function errorMessage(response: Buffer, start: number, end: number): string {
  let message = 'database error';
  let code = '';
  for (let offset = start; offset < end && response[offset] !== 0; ) {
    const kind = response[offset]!;
    const stop = response.indexOf(0, offset + 1);
    const value = response.toString('utf8', offset + 1, stop);
    if (kind === 0x4d) message = value;
    if (kind === 0x43) code = value;
    offset = stop + 1;
  }
  return code ? `${message} (SQLSTATE ${code})` : message;
}

import { StringDecoder } from 'node:string_decoder';

/**
 * Receives the text of one line (without its line break) and its 1-based number; from a byte splitter,
 * also the line's bytes (a view valid only during the call).
 */
export type LineHandler = (text: string, line: number, bytes?: Buffer) => void;

/** Splits a byte stream into lines synchronously, so a chunk is fully handled before the next is read. */
export interface LineSplitter {
  push(chunk: Buffer): void;
  /** Flushes a last line without a line break. */
  end(): void;
  /** Lines handed out so far. */
  readonly lines: number;
}

export function createLineSplitter(onLine: LineHandler): LineSplitter {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 0;
  const emit = (text: string) => {
    line += 1;
    onLine(text.endsWith('\r') ? text.slice(0, -1) : text, line);
  };
  const take = (text: string) => {
    let start = 0;
    let newline = text.indexOf('\n');
    if (newline === -1) {
      pending += text;
      return;
    }
    emit(pending + text.slice(0, newline));
    pending = '';
    start = newline + 1;
    for (newline = text.indexOf('\n', start); newline !== -1; newline = text.indexOf('\n', start)) {
      emit(text.slice(start, newline));
      start = newline + 1;
    }
    pending = text.slice(start);
  };
  return {
    push: (chunk) => take(decoder.write(chunk)),
    end() {
      take(decoder.end());
      if (pending !== '') emit(pending);
      pending = '';
    },
    get lines() {
      return line;
    },
  };
}

/** Receives the bytes of one line (without its line break, a trailing CR dropped) and its 1-based number. */
export type ByteLineHandler = (bytes: Buffer, line: number) => void;

/**
 * `createLineSplitter` on bytes: each line is handed out as a view of the chunk (valid only during the
 * call), so the loader can keep a JSON line's bytes as its raw record without encoding it again.
 */
export function createByteLineSplitter(onLine: ByteLineHandler): LineSplitter {
  let pending: Buffer | null = null;
  let line = 0;
  const emit = (bytes: Buffer) => {
    line += 1;
    onLine(bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.subarray(0, -1) : bytes, line);
  };
  return {
    push(chunk) {
      let start = 0;
      let newline = chunk.indexOf(10);
      if (newline === -1) {
        pending = pending ? Buffer.concat([pending, chunk]) : Buffer.from(chunk);
        return;
      }
      if (pending) {
        emit(Buffer.concat([pending, chunk.subarray(0, newline)]));
        pending = null;
        start = newline + 1;
        newline = chunk.indexOf(10, start);
      }
      for (; newline !== -1; newline = chunk.indexOf(10, start)) {
        emit(chunk.subarray(start, newline));
        start = newline + 1;
      }
      // Copied: the stream may reuse the chunk's memory.
      if (start < chunk.length) pending = Buffer.from(chunk.subarray(start));
    },
    end() {
      if (pending && pending.length > 0) emit(pending);
      pending = null;
    },
    get lines() {
      return line;
    },
  };
}

/** One parsed JSON object of a source, with the text it came from when that text was one line. */
export interface SourceRecord {
  record: Record<string, unknown>;
  line: number;
  /** The line as recorded, when the record was a whole line (JSON lines); null for documents. */
  text: string | null;
  /** The bytes of `text` as read (a view valid only during `onRecord`), when the reader was given them. */
  bytes?: Buffer;
}

export interface RecordHandlers {
  onRecord(record: SourceRecord): void;
  onError(line: number, message: string): void;
}

/** Largest pretty-printed JSON document read whole (evtx_dump output of one event is a few kB). */
const maxDocumentChars = 64 * 1024 * 1024;

/**
 * Tracks the nesting depth of JSON text line by line (outside strings), so concatenated
 * pretty-printed documents can be split where the depth returns to zero.
 */
function createDepthTracker(): { feed(text: string): number; reset(): void } {
  let depth = 0;
  let inString = false;
  let escaped = false;
  return {
    feed(text) {
      for (let index = 0; index < text.length; index += 1) {
        const char = text.charCodeAt(index);
        if (inString) {
          if (escaped) escaped = false;
          else if (char === 92) escaped = true;
          else if (char === 34) inString = false;
        } else if (char === 34) inString = true;
        else if (char === 123 || char === 91) depth += 1;
        else if (char === 125 || char === 93) depth -= 1;
      }
      return depth;
    },
    reset() {
      depth = 0;
      inString = false;
      escaped = false;
    },
  };
}

/**
 * Turns lines into records. JSON lines by default; when the first line is not a complete JSON value
 * but opens an object or array, the file is read as pretty-printed documents (one, or several one
 * after another as evtx_dump writes them), each an object or an array of objects. A document that
 * does not parse is read as JSON lines after all, so a corrupt first line costs only that line.
 */
export function createRecordReader(handlers: RecordHandlers): { onLine: LineHandler; end(): void } {
  let mode: 'detect' | 'lines' | 'document' = 'detect';
  let document: string[] = [];
  let documentChars = 0;
  let documentLine = 0;
  const depth = createDepthTracker();

  const emitValue = (value: unknown, line: number, text: string | null, bytes?: Buffer) => {
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        handlers.onError(line, 'expected a JSON object');
        continue;
      }
      const whole = values.length === 1 && text !== null;
      handlers.onRecord({
        record: item as Record<string, unknown>,
        line,
        text: whole ? text : null,
        ...(whole && bytes ? { bytes } : {}),
      });
    }
  };

  const parseLine = (text: string, line: number, bytes?: Buffer) => {
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      handlers.onError(line, `not valid JSON (${(error as Error).message})`);
      return;
    }
    emitValue(value, line, text, bytes);
  };

  const replayAsLines = () => {
    mode = 'lines';
    for (const [index, text] of document.entries()) parseLine(text, documentLine + index);
    document = [];
  };

  const closeDocument = (): void => {
    let value: unknown;
    try {
      value = JSON.parse(document.join('\n'));
    } catch {
      replayAsLines();
      return;
    }
    emitValue(value, documentLine, null);
    document = [];
    documentChars = 0;
    depth.reset();
  };

  const addToDocument = (text: string, line: number) => {
    if (document.length === 0) {
      if (text.trim() === '') return;
      documentLine = line;
    }
    document.push(text);
    documentChars += text.length + 1;
    if (depth.feed(text) <= 0) closeDocument();
    else if (documentChars > maxDocumentChars) replayAsLines();
  };

  return {
    onLine(text, line, bytes) {
      if (mode === 'lines') return parseLine(text, line, bytes);
      if (mode === 'document') return addToDocument(text, line);
      const trimmed = text.trim();
      if (trimmed === '') return;
      try {
        emitValue(JSON.parse(text), line, text, bytes);
        mode = 'lines';
      } catch {
        mode = trimmed.startsWith('{') || trimmed.startsWith('[') ? 'document' : 'lines';
        if (mode === 'lines') return parseLine(text, line, bytes);
        addToDocument(text, line);
      }
    },
    end() {
      if (mode === 'document' && document.length > 0) closeDocument();
    },
  };
}

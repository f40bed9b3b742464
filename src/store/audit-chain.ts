/**
 * The read of a run's audit chain for verification (`AuditStore.chain`, `chainPages`): pages by sequence
 * range, from PGlite's raw protocol response where the store offers it (wire.ts), else as JSON built by
 * the database. Also the SQL text helpers the audit writes share with it.
 */
import { sha256HexOfBytes } from './canonical.js';
import { decodeText, encodeText } from './codec.js';
import type { Sql } from './database.js';
import type { AuditChainRow } from './types.js';
import { forEachDataRow, ResponseBuffer } from './wire.js';

/**
 * Sequence numbers per page of the read of a chain. A page's raw response is gathered in one buffer
 * (~0.5 KB a row), grown afresh for each read of a chain: at 5000 rows it reached 4 MB, and touching
 * that much new memory (page faults, costly here under a hypervisor) cost a short chain's verify more
 * than the four times as many queries of 1000-row pages.
 */
const PAGE = 1000;

// Rows written since migration 3 keep the hashed text in body and leave data NULL; older rows have data.
export const COLUMNS =
  'id, run_id, seq, at, type, data, CASE WHEN data IS NULL THEN body END AS body, prev_hash, hash';

export interface AuditRow {
  id: string;
  run_id: string;
  seq: number;
  at: string;
  type: string;
  data: unknown;
  body: string | null;
  prev_hash: string;
  hash: string;
}

/**
 * A SQL string literal. Safe because the database runs with standard_conforming_strings on (the
 * PostgreSQL default, checked when the store opens), where only the quote itself is special inside
 * '...', and because encodeText has already removed what a text value cannot hold (NUL, lone surrogates).
 */
export function literal(text: string): string {
  return `'${encodeText(text).replaceAll("'", "''")}'`;
}

/** A run's chain in pages of up to PAGE sequence numbers, in order; see rawPage for `digest`. */
export async function* readChain(
  sql: Sql,
  raw: ((text: string, into?: ResponseBuffer) => Promise<Buffer>) | undefined,
  runId: string,
  digest: boolean,
): AsyncGenerator<AuditChainRow[]> {
  // Pages by sequence range, not LIMIT: without fresh statistics (nothing runs ANALYZE in the
  // embedded database) the planner sorted every row after the page start, on disk, for each page.
  // Sized for a page of typical rows (~0.5 KB) at once: growing to it by doubling copied and touched
  // twice the memory. Only what a response fills is ever touched, so a short chain costs no more.
  const response = new ResponseBuffer(PAGE * 512);
  const read = raw ? (text: string) => raw(text, response) : null;
  for (let after = 0; ; ) {
    const until = after + PAGE;
    const page =
      (read ? await rawPage(read, runId, after, until, digest) : null) ??
      (await chainPage(sql, runId, after, until));
    if (page.length > 0) {
      yield page;
      after = until;
      continue;
    }
    // Nothing in this range: the end, or a gap (deleted events) to step over.
    const [next] = await sql.query<{ seq: number | null }>(
      'SELECT min(seq) AS seq FROM audit_events WHERE run_id = $1 AND seq > $2',
      [runId, after],
    );
    if (next?.seq == null) return;
    after = next.seq - 1;
  }
}

/**
 * One page of a chain from the database's raw response (wire.ts): no driver row parsing, no
 * aggregation. Bitmap scans are off for the statement, so the (run_id, seq) index yields the rows
 * in order with no sort (without statistics the planner otherwise sorts). The database also puts
 * together each row's hash input (`auditBodyHash`'s text: prev_hash, then the event's canonical JSON
 * around the stored body), so with `digest` a row is hashed where it lies in the response, with no
 * copy and no body string; its short fields are read as latin1 (see the row). Rows whose bytes need
 * decoding, whose at or type is not plain ASCII, or whose run id cannot be written into the input keep
 * `body` (cut from that input) and are read exactly. Null when a row carries `data` (an older row, or
 * one edited so), which is what such a row is checked by: the exact read handles that page.
 */
async function rawPage(
  raw: (text: string) => Promise<Buffer>,
  runId: string,
  after: number,
  until: number,
  digest: boolean,
): Promise<AuditChainRow[] | null> {
  const runIdJson = JSON.stringify(runId);
  // The input ends with the run id's JSON as a literal; one that the codec would change cannot be one.
  const assembled = encodeText(runIdJson) === runIdJson;
  const input = assembled
    ? `prev_hash || '{"at":"' || at || '","data":' || body || ${literal(`,"runId":${runIdJson},"seq":`)} || seq || ',"type":"' || type || '"}'`
    : 'body';
  const response = await raw(
    `SET LOCAL enable_bitmapscan = off; SELECT id, seq, at, type, prev_hash, hash, CASE WHEN data IS NULL THEN ${input} END FROM audit_events WHERE run_id = ${literal(runId)} AND seq > ${after} AND seq <= ${until} ORDER BY seq`,
  );
  const rows: AuditChainRow[] = [];
  const bytes = response as DecodingBuffer;
  // Normally no stored byte is codec.ts's escape character; when one is, each row is checked for it.
  const escapes = response.includes(ESCAPE_LEAD);
  const asciiRunId = Buffer.byteLength(runId) === runId.length;
  const suffix = Buffer.byteLength(`,"runId":${runIdJson},"seq":`) + SEQ_TYPE_END;
  let older = false;
  forEachDataRow(response, 7, (starts, ends) => {
    const inputStart = starts[6]!;
    const inputEnd = ends[6]!;
    if (older || inputStart < 0) {
      older = true;
      return;
    }
    const seq = Number(bytes.latin1Slice(starts[1]!, ends[1]!));
    if (
      digest &&
      assembled &&
      asciiJsonString(response, starts[2]!, ends[2]!) &&
      asciiJsonString(response, starts[3]!, ends[3]!) &&
      !(escapes && response.subarray(inputStart, inputEnd).includes(ESCAPE_LEAD))
    ) {
      // Read as latin1, byte for byte: at and type are ASCII; a hash or id whose bytes are not ASCII
      // then cannot equal the hex digest, hash or id (of an ASCII run id) it is compared with.
      rows.push({
        id: asciiRunId ? bytes.latin1Slice(starts[0]!, ends[0]!) : textField(response, starts, ends, 0),
        runId,
        seq,
        at: bytes.latin1Slice(starts[2]!, ends[2]!),
        type: bytes.latin1Slice(starts[3]!, ends[3]!),
        prevHash: bytes.latin1Slice(starts[4]!, ends[4]!),
        hash: bytes.latin1Slice(starts[5]!, ends[5]!),
        digest: sha256HexOfBytes(
          new Uint8Array(response.buffer, response.byteOffset + inputStart, inputEnd - inputStart),
        ),
      });
      return;
    }
    // The body within the input: after prev_hash and at, before the run id, seq and type.
    const bodyStart = assembled
      ? inputStart + ends[4]! - starts[4]! + AT_DATA + ends[2]! - starts[2]!
      : inputStart;
    const bodyEnd = assembled
      ? inputEnd - suffix - (ends[1]! - starts[1]!) - (ends[3]! - starts[3]!)
      : inputEnd;
    rows.push(
      chainRow(
        textField(response, starts, ends, 0),
        runId,
        seq,
        textField(response, starts, ends, 2),
        textField(response, starts, ends, 3),
        textField(response, starts, ends, 4),
        textField(response, starts, ends, 5),
        { body: decodeText(bytes.utf8Slice(bodyStart, bodyEnd)) },
      ),
    );
  });
  return older ? null : rows;
}

/** Buffer's decoders without toString's argument checks (a page reads several short fields a row). */
type DecodingBuffer = Buffer & {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
};

/** A text field of a raw row, decoded (codec.ts). */
function textField(response: Buffer, starts: Int32Array, ends: Int32Array, field: number): string {
  return decodeText((response as DecodingBuffer).utf8Slice(starts[field]!, ends[field]!));
}

const ESCAPE_LEAD = 0xee; // first byte of U+E000 (codec.ts's escape) in UTF-8
/** Bytes of the hash input's fixed parts around at (`{"at":"`, `","data":`) and after the run id (`,"type":"`, `"}`). */
const AT_DATA = Buffer.byteLength('{"at":"","data":');
const SEQ_TYPE_END = Buffer.byteLength(',"type":""}');

/** A chain row; `checked` is what its hash is checked against (see AuditChainRow). */
function chainRow(
  id: string,
  runId: string,
  seq: number,
  at: string,
  type: string,
  prevHash: string,
  hash: string,
  checked: { body: string } | { data: unknown } | { digest: string },
): AuditChainRow {
  return { id, runId, seq, at, type, prevHash, hash, ...checked };
}

/** True when bytes [start, end) are ASCII and a JSON string's content as they stand: no quote, backslash or control character. */
function asciiJsonString(bytes: Buffer, start: number, end: number): boolean {
  for (let index = start; index < end; index++) {
    const byte = bytes[index]!;
    if (byte < 0x20 || byte >= 0x80 || byte === 0x22 || byte === 0x5c) return false;
  }
  return true;
}

type PageTuple = [string, number, string, string, string, string, string | null, unknown];

/** One page of a chain as JSON built by the database: one value to parse instead of thousands of rows. */
async function chainPage(sql: Sql, runId: string, after: number, until: number): Promise<AuditChainRow[]> {
  const [result] = await sql.query<{ page: string | null }>(
    `SELECT json_agg(json_build_array(id, seq, at, type, prev_hash, hash, body, data) ORDER BY seq)::text AS page
       FROM (SELECT id, seq, at, type, prev_hash, hash, CASE WHEN data IS NULL THEN body END AS body, data
               FROM audit_events WHERE run_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq) AS page`,
    [runId, after, until],
  );
  if (!result?.page) return [];
  let tuples: PageTuple[];
  try {
    tuples = JSON.parse(result.page) as PageTuple[];
  } catch {
    // Only a hand-edited row can carry what JSON cannot (a NUL in a text column): read that page row by row.
    const rows = await sql.query<AuditRow>(
      `SELECT ${COLUMNS} FROM audit_events WHERE run_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq`,
      [runId, after, until],
    );
    tuples = rows.map((row) => [
      row.id,
      row.seq,
      row.at,
      row.type,
      row.prev_hash,
      row.hash,
      row.body,
      row.data,
    ]);
  }
  return tuples.map(([id, seq, at, type, prevHash, hash, body, data]) =>
    chainRow(id, runId, seq, at, type, prevHash, hash, body !== null ? { body } : { data }),
  );
}

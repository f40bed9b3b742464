import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChainPages } from '../../src/audit/index.js';
import { InputError, StateError } from '../../src/errors.js';
import { type AuditWriter, createAuditStore } from '../../src/store/audit.js';
import type { Sql } from '../../src/store/database.js';
import {
  AUDIT_GENESIS_HASH,
  type AuditEventRecord,
  auditEventHash,
  canonicalJson,
  openStore,
  type Store,
  sha256Hex,
} from '../../src/store/index.js';
import { migrate, migrations } from '../../src/store/migrations.js';
import { rawQuery } from '../../src/store/wire.js';
import { at, makeHome, removeHome } from './helpers.js';

let home: string;
let store: Store;

beforeAll(async () => {
  home = makeHome();
  store = await openStore({ home });
});

afterAll(async () => {
  await store?.close();
  removeHome(home);
});

function expectChain(events: AuditEventRecord[], runId: string): void {
  let prevHash = AUDIT_GENESIS_HASH;
  events.forEach((event, index) => {
    expect(event.seq).toBe(index + 1);
    expect(event.id).toBe(`${runId}:${index + 1}`);
    expect(event.prevHash).toBe(prevHash);
    const { seq, at: time, type, data } = event;
    expect(event.hash).toBe(sha256Hex(prevHash + canonicalJson({ runId, seq, at: time, type, data })));
    prevHash = event.hash;
  });
}

const awkwardData = {
  text: 'NUL \u0000 inside, lone \uD83D surrogate, escape \uE000 char, emoji 😀, 日本語',
  nested: { list: [1, -2.5, 1e-7, 12345678901234, true, null, { deep: ['x'] }], empty: {} },
  'key\u0000with nul': 'value',
};

describe('audit trail', () => {
  it('numbers events per run from 1 and links each to the previous hash', async () => {
    const first = await store.audit.append('run-a', 'run-start', { alertId: 'a-1' }, at(0));
    expect(first).toMatchObject({ id: 'run-a:1', seq: 1, prevHash: AUDIT_GENESIS_HASH });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    const other = await store.audit.append('run-b', 'run-start', { alertId: 'b-1' }, at(0));
    expect(other).toMatchObject({ id: 'run-b:1', seq: 1, prevHash: AUDIT_GENESIS_HASH });
    const second = await store.audit.append('run-a', 'tool-call-request', { tool: 'siem.search' }, at(1));
    expect(second).toMatchObject({ id: 'run-a:2', seq: 2, prevHash: first.hash });
    expect(second.hash).toBe(auditEventHash(first.hash, second));
    expectChain(await store.audit.list('run-a'), 'run-a');
  });

  it('keeps order and chain under concurrent appends', async () => {
    const appended = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        store.audit.append('run-c', 'model-request', { index }, at(index)),
      ),
    );
    expect(appended.map((event) => event.seq)).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
    const listed = await store.audit.list('run-c');
    expect(listed).toEqual(appended);
    expectChain(listed, 'run-c');
  });

  it('commits concurrent appends of several runs together, each run numbered in call order', async () => {
    const runs = ['run-g1', 'run-g2', 'run-g3'];
    const appended = await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        store.audit.append(runs[index % 3]!, 'tool-call-request', { index }, at(index)),
      ),
    );
    for (const runId of runs) {
      const listed = await store.audit.list(runId);
      expect(listed).toEqual(appended.filter((event) => event.runId === runId));
      expect(listed.map((event) => (event.data as { index: number }).index)).toEqual(
        appended.filter((event) => event.runId === runId).map((_, n) => runs.indexOf(runId) + 3 * n),
      );
      expectChain(listed, runId);
      expect(await store.audit.chain(runId)).toEqual(
        listed.map(({ data, ...rest }) => ({ ...rest, body: canonicalJson(data) })),
      );
    }
  });

  it('round-trips awkward data exactly and hashes what it stores', async () => {
    const event = await store.audit.append(
      'run-d',
      'tool-call-result',
      awkwardData,
      '2025-01-01T10:00:00+02:00',
    );
    expect(event.data).toEqual(awkwardData);
    // The data as stored (canonical JSON: a field without a JSON form dropped), the same value on every read.
    const shaped = await store.audit.append(
      'run-d2',
      'tool-call-result',
      { kept: 1, dropped: undefined },
      at(0),
    );
    expect(Object.keys(shaped.data as object)).toEqual(['kept']);
    expect(shaped.data).toBe(shaped.data);
    expect(JSON.parse(JSON.stringify(shaped))).toMatchObject({ data: { kept: 1 } });
    const [listed] = await store.audit.list('run-d');
    expect(listed).toEqual(event);
    expect(listed?.at).toBe('2025-01-01T10:00:00+02:00');
    expectChain([listed!], 'run-d');
  });

  it('writes awkward text exactly whether a batch goes out as one INSERT or as a COPY', async () => {
    const awkwardText = `quote ' and '' and \\ backslash \\. tab \t newline \n cr \r ); DROP TABLE audit_events; --`;
    for (const size of [1, 3, 40]) {
      const runId = `run-'awk\\${size}`;
      const appended = await Promise.all(
        Array.from({ length: size }, (_, index) =>
          store.audit.append(runId, `type '\t${index}`, { awkwardData, awkwardText, index }, at(index)),
        ),
      );
      const listed = await store.audit.list(runId);
      expect(listed).toEqual(appended);
      expect(listed.map((event) => event.data)).toEqual(
        Array.from({ length: size }, (_, index) => ({ awkwardData, awkwardText, index })),
      );
      expectChain(listed, runId);
      expect(await store.audit.chain(runId)).toEqual(
        listed.map(({ data, ...rest }) => ({ ...rest, body: canonicalJson(data) })),
      );
    }
  });

  it('reads a chain for verify as digests of the stored bytes, or as text where the bytes need decoding', async () => {
    const plain = { text: 'quote " back \\ tab \t new line \n 日本語 😀', list: [1, 2.5, null] };
    const runId = 'run-"digest\\';
    await store.audit.append(runId, 'tool-call-result', plain, at(0));
    await store.audit.append(runId, 'tool-call-result', awkwardData, at(1));
    await store.audit.append(runId, 'type\twith tab', plain, at(2));
    const rows = [];
    for await (const page of store.audit.chainPages(runId)) rows.push(...page);
    // The second holds the codec's escape character, the third a type that JSON escapes: read as text.
    expect(rows.map((row) => ('digest' in row ? 'digest' : 'body' in row ? 'body' : 'data'))).toEqual([
      'digest',
      'body',
      'body',
    ]);
    expect(rows.map((row) => ('digest' in row ? row.digest : null))).toEqual([rows[0]?.hash, null, null]);
    expect(
      await verifyChainPages(runId, store.audit.chainPages(runId), [], [], () => store.audit.chain(runId)),
    ).toEqual({ runId, status: 'ok', events: 3, checkpointedSeq: null });
  });

  it('reads rows whose at, type or run id are not ASCII as text, and finds an id edited into their bytes', async () => {
    // 'Ã©' is the latin1 reading of the UTF-8 bytes of 'é': an id read byte for byte would pass for it.
    const runId = 'run-Ã©';
    await store.audit.append(runId, 'tool-call-result', { n: 1 }, at(0));
    await store.audit.append(runId, 'résumé-result', { n: 2 }, at(1));
    await store.audit.append(runId, 'tool-call-result', { n: 3 }, `${at(2)}·`);
    const read = async (id: string) => {
      const rows = [];
      for await (const page of store.audit.chainPages(id)) rows.push(...page);
      return rows;
    };
    const rows = await read(runId);
    expect(rows.map((row) => ('digest' in row ? 'digest' : 'body'))).toEqual(['digest', 'body', 'body']);
    expect(rows.map((row) => row.id)).toEqual([`${runId}:1`, `${runId}:2`, `${runId}:3`]);
    expect(rows.map((row) => row.type)).toEqual(['tool-call-result', 'résumé-result', 'tool-call-result']);
    const verify = (id: string) =>
      verifyChainPages(id, store.audit.chainPages(id), [], [], () => store.audit.chain(id));
    expect(await verify(runId)).toEqual({ runId, status: 'ok', events: 3, checkpointedSeq: null });

    // A run id the codec escapes cannot be written into the query's hash input: its rows are read as text.
    const escaped = 'run-\uE000-private';
    await store.audit.append(escaped, 'tool-call-result', { n: 1 }, at(0));
    expect((await read(escaped)).map((row) => ('body' in row ? row.body : null))).toEqual(['{"n":1}']);
    expect(await verify(escaped)).toMatchObject({ status: 'ok', events: 1 });

    const db = await PGlite.create();
    try {
      await migrate(db);
      const sql: Sql = { query: async (text, params) => (await db.query<never>(text, params)).rows };
      const writer: AuditWriter = {
        exec: async (text) => void (await db.exec(text)),
        copyFrom: async (statement, data) => void (await db.query(statement, [], { blob: new Blob([data]) })),
        raw: (text, into) => rawQuery(db, text, into),
      };
      const audit = createAuditStore(sql, writer);
      await audit.append(runId, 'tool-call-result', { n: 1 }, at(0));
      await audit.append(runId, 'tool-call-result', { n: 2 }, at(1));
      await db.query(`UPDATE audit_events SET id = 'run-é:1' WHERE seq = 1`);
      expect(
        await verifyChainPages(runId, audit.chainPages(runId), [], [], () => audit.chain(runId)),
      ).toMatchObject({
        status: 'broken',
        firstBadSeq: 1,
        problem: 'edited',
      });
    } finally {
      await db.close();
    }
  });

  it('stores scalar and missing data as JSON', async () => {
    await store.audit.append('run-e', 'run-end', 'done', at(0));
    await store.audit.append('run-e', 'run-end', undefined, at(1));
    await store.audit.append('run-e', 'run-end', [], at(2));
    const events = await store.audit.list('run-e');
    expect(events.map((event) => event.data)).toEqual(['done', null, []]);
    expectChain(events, 'run-e');
  });

  it('rejects data that has no JSON form without breaking the chain', async () => {
    await expect(store.audit.append('run-a', 'model-response', { n: Number.NaN }, at(2))).rejects.toThrow(
      InputError,
    );
    const next = await store.audit.append('run-a', 'model-response', { n: 1 }, at(3));
    expect(next.seq).toBe(3);
    expectChain(await store.audit.list('run-a'), 'run-a');
  });

  it('continues every chain after close and reopen, and keeps all data', async () => {
    const before = await store.audit.list('run-a');
    await store.runs.create({
      id: 'run-a',
      alertId: 'a-1',
      alertTitle: 'kept',
      provider: 'offline',
      state: { n: 1 },
      at: at(0),
    });
    await store.close();
    await store.close();
    await expect(store.audit.list('run-a')).rejects.toThrow(/closed/);

    store = await openStore({ home });
    expect(await store.audit.list('run-a')).toEqual(before);
    expect(await store.runs.get('run-a')).toMatchObject({ alertTitle: 'kept', state: { n: 1 } });
    const next = await store.audit.append('run-a', 'run-end', { ok: true }, at(9));
    expect(next).toMatchObject({ id: 'run-a:4', seq: 4, prevHash: before.at(-1)?.hash });
    expectChain(await store.audit.list('run-a'), 'run-a');
    expect(await store.audit.list('run-none')).toEqual([]);
  });
});

describe('migrations', () => {
  it('records each migration once and refuses a newer schema', async () => {
    await store.close();
    const dataDir = path.join(home, 'db');
    const db = await PGlite.create(dataDir);
    const { rows } = await db.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    expect(rows).toEqual(migrations.map(({ version }) => ({ version })));
    await db.query("INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')");
    await db.close();

    const opening = openStore({ home, lockTimeoutMs: 1000 });
    await expect(opening).rejects.toThrow(StateError);
    await expect(opening).rejects.toThrow(/version 999/);

    const cleanup = await PGlite.create(dataDir);
    await cleanup.query('DELETE FROM schema_migrations WHERE version = 999');
    await cleanup.close();
    store = await openStore({ home, lockTimeoutMs: 1000 });
    expect((await store.audit.list('run-a')).length).toBe(4);
  });

  it('migrates a store written before the id key was dropped, whose chains still verify', async () => {
    const oldHome = makeHome();
    try {
      // A version 5 store (audit_events keyed by id as well as by run and sequence number) with events in it.
      const old = await PGlite.create(path.join(oldHome, 'db'));
      await migrate(old, migrations.slice(0, 5));
      const oldSql: Sql = { query: async (text, params) => (await old.query<never>(text, params)).rows };
      const oldWriter: AuditWriter = {
        exec: async (text) => void (await old.exec(text)),
        copyFrom: async (statement, data) =>
          void (await old.query(statement, [], { blob: new Blob([data]) })),
      };
      const oldAudit = createAuditStore(oldSql, oldWriter);
      for (let index = 0; index < 40; index++)
        await Promise.all([
          oldAudit.append('old-a', 'tool-call-result', { index, awkwardData }, at(index)),
          oldAudit.append('old-b', 'tool-call-result', { index }, at(index)),
        ]);
      const constraints = async (db: PGlite | Sql) => {
        const text =
          "SELECT conname FROM pg_constraint WHERE conrelid = 'audit_events'::regclass AND contype IN ('p', 'u') ORDER BY conname";
        const rows =
          db instanceof PGlite
            ? (await db.query<{ conname: string }>(text)).rows
            : await db.query<{ conname: string }>(text);
        return rows.map((row) => row.conname);
      };
      expect(await constraints(old)).toEqual(['audit_events_pkey', 'audit_events_run_id_seq_key']);
      await old.close();

      const migrated = await openStore({ home: oldHome, lockTimeoutMs: 1000 });
      try {
        const verify = (runId: string) =>
          verifyChainPages(runId, migrated.audit.chainPages(runId), [], [], () =>
            migrated.audit.chain(runId),
          );
        expect(await verify('old-a')).toMatchObject({ status: 'ok', events: 40 });
        expect(await verify('old-b')).toMatchObject({ status: 'ok', events: 40 });
        // New events continue the old chains.
        await migrated.audit.append('old-a', 'run-end', {}, at(50));
        expect(await verify('old-a')).toMatchObject({ status: 'ok', events: 41 });
      } finally {
        await migrated.close();
      }
      const after = await PGlite.create(path.join(oldHome, 'db'));
      try {
        expect(await constraints(after)).toEqual(['audit_events_run_id_seq_key']);
        const versions = (
          await after.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
        ).rows;
        expect(versions.map((row) => row.version)).toEqual(migrations.map((migration) => migration.version));
        // Without the key an id can now repeat, as a forger might make it: verification still names the event.
        await after.query("UPDATE audit_events SET id = 'old-b:3' WHERE run_id = 'old-b' AND seq = 7");
      } finally {
        await after.close();
      }
      const reopened = await openStore({ home: oldHome, lockTimeoutMs: 1000 });
      try {
        expect(
          await verifyChainPages('old-b', reopened.audit.chainPages('old-b'), [], [], () =>
            reopened.audit.chain('old-b'),
          ),
        ).toMatchObject({ status: 'broken', firstBadSeq: 7, problem: 'edited' });
      } finally {
        await reopened.close();
      }
    } finally {
      removeHome(oldHome);
    }
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/index.js';
import { StateError } from '../../src/errors.js';
import { type AuditWriter, createAuditStore } from '../../src/store/audit.js';
import {
  type AuditJournal,
  auditJournalPath,
  openAuditJournal,
  recoverAuditJournal,
} from '../../src/store/audit-journal.js';
import type { Sql } from '../../src/store/database.js';
import { openStore } from '../../src/store/index.js';
import { migrate } from '../../src/store/migrations.js';
import { at, makeHome, removeHome } from './helpers.js';

// Tabs, newlines, backslashes, NUL, a lone surrogate and U+E000: every escape of the journal's row format.
const awkward = { text: 'tab\there\nnew line \\ back \u0000 nul \uD83D lone \uE000 private', n: 1 };

let home: string;

beforeAll(() => {
  home = makeHome();
});
afterAll(() => {
  removeHome(home);
});

describe('audit journal', () => {
  it('resolves an append once its event is in the journal; the database takes it in behind and reads wait for it', async () => {
    const store = await openStore({ home });
    try {
      const first = await store.audit.append('run-j', 'run-start', awkward, at(0));
      // Written to the journal before the append resolved, whatever the database has yet.
      const journal = fs.readFileSync(auditJournalPath(home), 'utf8');
      expect(journal.split('\n')[0]).toMatch(/^run-j:1\trun-j\t1\t/);
      expect(journal).toContain(first.hash);
      await store.audit.append('run-j', 'run-end', { status: 'completed' }, at(1));
      const events = await store.audit.list('run-j');
      expect(events.map((event) => event.seq)).toEqual([1, 2]);
      expect(events[0]?.data).toEqual(awkward);
      expect(verifyChain('run-j', await store.audit.chain('run-j'), [])).toMatchObject({
        status: 'ok',
        events: 2,
      });
    } finally {
      await store.close();
    }
    // Closed with everything in the database: no journal is left.
    expect(fs.existsSync(auditJournalPath(home))).toBe(false);
  });

  it('on opening, writes the journaled events the database lacks, drops a torn last line, and empties the journal', async () => {
    let store = await openStore({ home });
    let journal: string;
    try {
      for (let index = 0; index < 3; index++)
        await store.audit.append('run-crash', 'tool-call-result', { ...awkward, index }, at(index));
      await store.audit.written();
      // Numbered and journaled, not yet in the database (that waits for the event loop to turn).
      await store.audit.enqueue('run-crash', 'tool-call-result', { ...awkward, index: 3 }, at(3));
      await store.audit.enqueue('run-crash', 'tool-call-result', { ...awkward, index: 4 }, at(4));
      journal = fs.readFileSync(auditJournalPath(home), 'utf8');
    } finally {
      await store.close();
    }
    // As a SIGKILL would have left it: the database without the last two events, the journal with
    // all five and a sixth cut off mid-line.
    const db = await PGlite.create(path.join(home, 'db'));
    await db.query("DELETE FROM audit_events WHERE run_id = 'run-crash' AND seq > 3");
    await db.close();
    const lines = journal.split('\n').filter((line) => line.startsWith('run-crash:'));
    expect(lines).toHaveLength(5);
    fs.writeFileSync(auditJournalPath(home), `${lines.join('\n')}\n${lines[4]!.slice(0, 40)}`);

    store = await openStore({ home });
    try {
      expect(fs.statSync(auditJournalPath(home)).size).toBe(0);
      const events = await store.audit.list('run-crash');
      expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(events[4]?.data).toEqual({ ...awkward, index: 4 });
      expect(verifyChain('run-crash', events, [])).toMatchObject({ status: 'ok', events: 5 });
      expect(await store.audit.append('run-crash', 'run-end', {}, at(5))).toMatchObject({ seq: 6 });
    } finally {
      await store.close();
    }
  });

  it('refuses to open over a journal line that is not an event row, naming the file, the line and the way out', async () => {
    fs.writeFileSync(auditJournalPath(home), 'run-x:1\trun-x\tnot-a-number\n');
    const opening = openStore({ home });
    await expect(opening).rejects.toThrow(StateError);
    await expect(opening).rejects.toThrow(`audit journal ${auditJournalPath(home)} line 1`);
    await expect(opening).rejects.toThrow('move it away');
    fs.rmSync(auditJournalPath(home));
    const store = await openStore({ home });
    await store.close();
  });

  it('stops appends and reads once the database write fails, keeping the events in the journal for the next opening', async () => {
    const db = await PGlite.create();
    await migrate(db);
    const sql: Sql = { query: async (text, params) => (await db.query<never>(text, params)).rows };
    let failing = false;
    const writer: AuditWriter = {
      async exec(text) {
        if (failing) throw new Error('disk full');
        await db.exec(text);
      },
      async copyFrom(statement, data) {
        if (failing) throw new Error('disk full');
        await db.query(statement, [], { blob: new Blob([data]) });
      },
    };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'warden-journal-')), 'db.journal');
    const journal = openAuditJournal(file);
    const audit = createAuditStore(sql, writer, journal);
    await audit.append('run-s', 'run-start', {}, at(0));
    await audit.written();
    failing = true;
    // Durable in the journal, so the append resolves; the database write behind it fails.
    await expect(audit.append('run-s', 'tool-call-result', { n: 1 }, at(1))).resolves.toMatchObject({
      seq: 2,
    });
    await expect(audit.written()).rejects.toThrow('disk full');
    await expect(audit.list('run-s')).rejects.toThrow('kept in the audit journal');
    await expect(audit.append('run-s', 'run-end', {}, at(2))).rejects.toThrow('disk full');
    await audit.close();
    // The failed write's event is still in the journal: the next opening writes it.
    expect(await recoverAuditJournal(db, file)).toBe(1);
    const { rows } = await db.query<{ seq: number }>(
      "SELECT seq FROM audit_events WHERE run_id = 'run-s' ORDER BY seq",
    );
    expect(rows.map((row) => row.seq)).toEqual([1, 2]);
    expect(fs.statSync(file).size).toBe(0);
    await db.close();
  });
  it('journals the appends made together in one write; a failed write rejects them all and their runs number on from before them', async () => {
    const db = await PGlite.create();
    await migrate(db);
    const sql: Sql = { query: async (text, params) => (await db.query<never>(text, params)).rows };
    const writer: AuditWriter = {
      exec: async (text) => void (await db.exec(text)),
      copyFrom: async (statement, data) => void (await db.query(statement, [], { blob: new Blob([data]) })),
    };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'warden-journal-')), 'db.journal');
    const real = openAuditJournal(file);
    let writes = 0;
    let failNext = false;
    const journal: AuditJournal = {
      append(line) {
        writes++;
        if (failNext) {
          failNext = false;
          throw new StateError('cannot write the audit journal: disk full');
        }
        real.append(line);
      },
      get size() {
        return real.size;
      },
      reset: () => real.reset(),
      close: () => real.close(),
      discard: () => real.discard(),
    };
    const audit = createAuditStore(sql, writer, journal);
    await audit.append('run-a', 'run-start', {}, at(0));
    await audit.append('run-b', 'run-start', {}, at(0));
    writes = 0;
    const together = await Promise.all([
      audit.append('run-a', 'tool-call-request', { n: 1 }, at(1)),
      audit.append('run-b', 'tool-call-request', { n: 1 }, at(1)),
      audit.append('run-a', 'policy-decision', { n: 2 }, at(2)),
    ]);
    expect(writes).toBe(1);
    expect(together.map((event) => event.id)).toEqual(['run-a:2', 'run-b:2', 'run-a:3']);

    failNext = true;
    const failed = await Promise.allSettled([
      audit.append('run-a', 'tool-call-result', { n: 3 }, at(3)),
      audit.append('run-b', 'tool-call-result', { n: 3 }, at(3)),
    ]);
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(String((failed[0] as PromiseRejectedResult).reason)).toContain('disk full');
    // Nothing of the failed write stands: each run's next append takes the first lost number.
    const nextA = await audit.append('run-a', 'run-end', {}, at(4));
    const nextB = await audit.append('run-b', 'run-end', {}, at(4));
    expect([nextA.seq, nextA.prevHash]).toEqual([4, together[2]!.hash]);
    expect([nextB.seq, nextB.prevHash]).toEqual([3, together[1]!.hash]);

    // The journal holds each acknowledged event once, and nothing of the failed write.
    const journaled = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t')[0]);
    expect(journaled).toEqual(['run-a:1', 'run-b:1', 'run-a:2', 'run-b:2', 'run-a:3', 'run-a:4', 'run-b:3']);

    // The database's COPY takes the journal's bytes as written: multi-byte text, runs interleaved, several writes.
    const copied = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        audit.append(
          `run-${index % 2 ? 'a' : 'b'}`,
          'tool-call-result',
          { ...awkward, index, text: `日本語 ${index}` },
          at(5),
        ),
      ),
    );
    await audit.written();
    const stored = [...(await audit.list('run-a')), ...(await audit.list('run-b'))];
    for (const event of copied) expect(stored.find((row) => row.id === event.id)).toEqual(event);
    for (const [runId, events] of [
      ['run-a', 24],
      ['run-b', 23],
    ] as const)
      expect(verifyChain(runId, await audit.chain(runId), [])).toMatchObject({ status: 'ok', events });

    // Appends past the write bound are written at once, before the turn ends.
    writes = 0;
    const big = 'x'.repeat(600_000);
    const first = audit.append('run-a', 'tool-call-result', { big }, at(6));
    expect(writes).toBe(0);
    const second = audit.append('run-a', 'tool-call-result', { big }, at(7));
    expect(writes).toBe(1);
    expect((await Promise.all([first, second])).map((event) => event.seq)).toEqual([25, 26]);
    expect(writes).toBe(1);

    for (const [runId, events] of [
      ['run-a', 26],
      ['run-b', 23],
    ] as const)
      expect(verifyChain(runId, await audit.chain(runId), [])).toMatchObject({ status: 'ok', events });
    await audit.close();
    await db.close();
  });
});

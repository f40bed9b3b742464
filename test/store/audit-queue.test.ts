import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/index.js';
import { type AuditWriter, createAuditStore } from '../../src/store/audit.js';
import type { Sql } from '../../src/store/database.js';
import { migrate } from '../../src/store/migrations.js';
import { type ResponseBuffer, rawQuery } from '../../src/store/wire.js';
import { at } from './helpers.js';

let db: PGlite;
let sql: Sql;

beforeAll(async () => {
  db = await PGlite.create();
  await migrate(db);
  sql = { query: async (text, params) => (await db.query<never>(text, params)).rows };
});
afterAll(async () => {
  await db?.close();
});

/** The store's own writer, except that the statements named by `fail` (1 = the first) throw. */
function writerFailing(fail: Set<number>): AuditWriter & { statements: number } {
  // A failing write takes a while, as a real one does, so more appends queue up behind it.
  const failIfNamed = async () => {
    writer.statements++;
    if (!fail.has(writer.statements)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
    throw new Error('disk full');
  };
  const writer = {
    statements: 0,
    async exec(text: string) {
      await failIfNamed();
      await db.exec(text);
    },
    async copyFrom(statement: string, data: Blob) {
      await failIfNamed();
      await db.query(statement, [], { blob: new Blob([data]) });
    },
    raw: (text: string, into?: ResponseBuffer) => rawQuery(db, text, into),
  };
  return writer;
}

const settled = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

describe('queued audit appends', () => {
  it('commit appends made together in one statement, in call order', async () => {
    const writer = writerFailing(new Set());
    const audit = createAuditStore(sql, writer);
    await audit.append('run-group', 'run-start', {}, at(0));
    const before = writer.statements;
    const queued = await Promise.all([
      audit.enqueue('run-group', 'tool-call-request', { n: 1 }, at(1)),
      audit.enqueue('run-group', 'policy-decision', { n: 2 }, at(2)),
    ]);
    await Promise.all(queued.map((item) => item.committed));
    expect(writer.statements - before).toBe(1);
    const events = await audit.list('run-group');
    expect(events.map((event) => event.id)).toEqual(['run-group:1', 'run-group:2', 'run-group:3']);
    expect(verifyChain('run-group', events, [])).toMatchObject({ status: 'ok', events: 3 });
  });

  it('fail every later queued event of the run with the one whose write failed, and keep the chain whole', async () => {
    const writer = writerFailing(new Set([2]));
    const audit = createAuditStore(sql, writer);
    await audit.append('run-fail', 'run-start', {}, at(0));
    // Written in the second statement, which fails; queued behind it while it runs: the run's next event.
    const result = await audit.enqueue('run-fail', 'tool-call-result', { n: 1 }, at(1));
    const behind = settled(
      new Promise((resolve) => setImmediate(resolve)).then(() =>
        audit.append('run-fail', 'model-request', { n: 2 }, at(2)),
      ),
    );
    const other = settled(audit.append('run-other', 'run-start', {}, at(1)));
    await expect(result.committed).rejects.toThrow('disk full');
    expect(await behind).toMatchObject({ error: { message: 'disk full' } });
    // Events of other runs in the failed statement fail too; later statements are unaffected.
    expect(await other).toMatchObject({ error: { message: 'disk full' } });
    await expect(audit.append('run-other', 'run-start', {}, at(3))).resolves.toMatchObject({ seq: 1 });
    // The run's head is read afresh: the next event takes the number the lost one had.
    const next = await audit.append('run-fail', 'run-end', { status: 'failed' }, at(3));
    expect(next.seq).toBe(2);
    expect(verifyChain('run-fail', await audit.list('run-fail'), [])).toMatchObject({
      status: 'ok',
      events: 2,
    });
  });

  it('reads a long chain page by page across a gap wider than a page, and verify names the first missing event', async () => {
    const audit = createAuditStore(sql, writerFailing(new Set()));
    const queued = await Promise.all(
      Array.from({ length: 12_500 }, (_, index) =>
        audit.enqueue('run-long', 'tool-call-result', { index, text: 'tab\there' }, at(index)),
      ),
    );
    await Promise.all(queued.map((item) => item.committed));
    const whole = await audit.chain('run-long');
    expect(whole.map((row) => row.seq)).toEqual(Array.from({ length: 12_500 }, (_, index) => index + 1));
    expect(verifyChain('run-long', whole, [])).toMatchObject({ status: 'ok', events: 12_500 });
    await db.query("DELETE FROM audit_events WHERE run_id = 'run-long' AND seq BETWEEN 3000 AND 9500");
    const cut = await audit.chain('run-long');
    expect(cut).toHaveLength(12_500 - 6501);
    expect(cut.at(2998)?.seq).toBe(2999);
    expect(cut.at(2999)?.seq).toBe(9501);
    expect(verifyChain('run-long', cut, [])).toMatchObject({
      status: 'broken',
      firstBadSeq: 3000,
      problem: 'deleted',
    });
  });
});

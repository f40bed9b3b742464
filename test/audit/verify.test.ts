import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkpointPath,
  loadSigningKey,
  readCheckpoints,
  verifyChain,
  verifyChainPages,
  writeCheckpoint,
} from '../../src/audit/index.js';
import { verifyAudit } from '../../src/cli/runs.js';
import { configSchema } from '../../src/config/index.js';
import { AUDIT_GENESIS_HASH, auditEventHash, openStore } from '../../src/store/index.js';
import { tempHome } from '../helpers.js';

const scenarios = [
  'clean',
  'edited',
  'edited-text',
  'deleted',
  'inserted',
  'reordered',
  'truncated',
  'rewritten',
  'forged-checkpoint',
  'vanished',
] as const;
let home: string;

async function verify(runId: string) {
  const store = await openStore({ home });
  try {
    const key = loadSigningKey(home, {});
    const { checkpoints, problems } = readCheckpoints(home, runId, key);
    const report = verifyChain(runId, await store.audit.chain(runId), checkpoints, problems);
    // What verify reads (the stored text) and what everyone else reads (the parsed events) agree.
    expect(verifyChain(runId, await store.audit.list(runId), checkpoints, problems)).toEqual(report);
    // So does `warden audit verify`'s page-by-page check over digests of the stored bytes.
    expect(
      await verifyChainPages(runId, store.audit.chainPages(runId), checkpoints, problems, () =>
        store.audit.chain(runId),
      ),
    ).toEqual(report);
    return report;
  } finally {
    await store.close();
  }
}

async function tamper(statements: Array<[string, unknown[]?]>): Promise<void> {
  const db = new PGlite(join(home, 'db'));
  try {
    for (const [sql, params] of statements) await db.query(sql, params ?? []);
  } finally {
    await db.close();
  }
}

beforeAll(async () => {
  home = tempHome('warden-audit-');
  const key = loadSigningKey(home, {});
  const store = await openStore({ home });
  try {
    for (const runId of scenarios) {
      let at = Date.parse('2026-11-18T09:00:00Z');
      for (let index = 1; index <= 8; index++) {
        at += 1000;
        await store.audit.append(
          runId,
          index === 8 ? 'run-end' : 'tool-call-result',
          { index, value: `result ${index}` },
          new Date(at).toISOString(),
        );
      }
      const events = await store.audit.list(runId);
      const last = events.at(-1);
      if (!last) throw new Error('no events');
      writeCheckpoint(home, key, last, new Date(at));
    }
  } finally {
    await store.close();
  }
});

describe('audit verify on the real store', () => {
  it('accepts an untouched chain with its signed checkpoint', async () => {
    expect(await verify('clean')).toEqual({ runId: 'clean', status: 'ok', events: 8, checkpointedSeq: 8 });
  });

  it('names an edited event', async () => {
    await tamper([
      [
        `UPDATE audit_events SET data = '{"index": 3, "value": "nothing to see"}' WHERE run_id = 'edited' AND seq = 3`,
      ],
    ]);
    expect(await verify('edited')).toMatchObject({ status: 'broken', firstBadSeq: 3, problem: 'edited' });
  });

  it('names an event whose stored canonical text was edited', async () => {
    await tamper([
      [
        `UPDATE audit_events SET body = replace(body, 'result 2', 'result 9') WHERE run_id = 'edited-text' AND seq = 2`,
      ],
    ]);
    expect(await verify('edited-text')).toMatchObject({
      status: 'broken',
      firstBadSeq: 2,
      problem: 'edited',
    });
  });

  it('names a deleted event', async () => {
    await tamper([[`DELETE FROM audit_events WHERE run_id = 'deleted' AND seq = 5`]]);
    expect(await verify('deleted')).toMatchObject({ status: 'broken', firstBadSeq: 5, problem: 'deleted' });
  });

  it('names an inserted event', async () => {
    const at = '2026-11-18T09:00:04.500Z';
    const data = { index: 4.5, value: 'planted' };
    const hash = auditEventHash('f'.repeat(64), {
      runId: 'inserted',
      seq: 4,
      at,
      type: 'tool-call-result',
      data,
    });
    await tamper([
      [
        `UPDATE audit_events SET seq = seq + 100, id = 'moving:' || seq WHERE run_id = 'inserted' AND seq >= 4`,
      ],
      [
        `UPDATE audit_events SET seq = seq - 99, id = 'inserted:' || (seq - 99) WHERE run_id = 'inserted' AND seq >= 100`,
      ],
      [
        `INSERT INTO audit_events (id, run_id, seq, at, type, data, prev_hash, hash) VALUES ('inserted:4', 'inserted', 4, $1, 'tool-call-result', $2, $3, $4)`,
        [at, data, 'f'.repeat(64), hash],
      ],
    ]);
    expect(await verify('inserted')).toMatchObject({ status: 'broken', firstBadSeq: 4, problem: 'inserted' });
  });

  it('names a reordering', async () => {
    await tamper([
      [`UPDATE audit_events SET seq = 100 WHERE run_id = 'reordered' AND seq = 6`],
      [`UPDATE audit_events SET seq = 6 WHERE run_id = 'reordered' AND seq = 7`],
      [`UPDATE audit_events SET seq = 7 WHERE run_id = 'reordered' AND seq = 100`],
    ]);
    expect(await verify('reordered')).toMatchObject({
      status: 'broken',
      firstBadSeq: 6,
      problem: 'reordered',
    });
  });

  it('names a truncated tail through the signed checkpoint', async () => {
    await tamper([[`DELETE FROM audit_events WHERE run_id = 'truncated' AND seq >= 7`]]);
    expect(await verify('truncated')).toMatchObject({
      status: 'broken',
      firstBadSeq: 7,
      problem: 'truncated',
    });
  });

  it('catches a chain rewritten with recomputed hashes through the checkpoint', async () => {
    const store = await openStore({ home });
    const events = await store.audit.list('rewritten');
    await store.close();
    let prevHash = AUDIT_GENESIS_HASH;
    const statements: Array<[string, unknown[]]> = [];
    for (const event of events) {
      const data = event.seq === 2 ? { index: 2, value: 'rewritten history' } : event.data;
      const hash = auditEventHash(prevHash, { ...event, data });
      statements.push([
        `UPDATE audit_events SET data = $1, prev_hash = $2, hash = $3 WHERE run_id = 'rewritten' AND seq = $4`,
        [data, prevHash, hash, event.seq],
      ]);
      prevHash = hash;
    }
    await tamper(statements);
    expect(await verify('rewritten')).toMatchObject({
      status: 'broken',
      firstBadSeq: 8,
      problem: 'edited',
      detail: expect.stringMatching(/signed checkpoint/),
    });
  });

  it('rejects a forged checkpoint', async () => {
    const path = checkpointPath(home, 'forged-checkpoint');
    const real = JSON.parse(readFileSync(path, 'utf8').trim()) as Record<string, unknown>;
    writeFileSync(path, '');
    appendFileSync(path, `${JSON.stringify({ ...real, seq: 3 })}\n`);
    expect(await verify('forged-checkpoint')).toMatchObject({
      status: 'broken',
      problem: 'checkpoint',
      detail: expect.stringMatching(/does not verify/),
    });
  });

  it('finds, with no run named, a run whose every event was deleted, through its checkpoints', async () => {
    await tamper([[`DELETE FROM audit_events WHERE run_id = 'vanished'`]]);
    const lines: string[] = [];
    const context = {
      config: configSchema.parse({}),
      configPath: null,
      home,
      out: (line: string) => lines.push(line),
    };
    expect(await verifyAudit(context, [])).toBe(false);
    expect(lines).toContain('clean  ok  8 events, signed through 8');
    expect(lines.find((line) => line.startsWith('vanished '))).toMatch(/BROKEN at event 1: truncated/);
  });
});

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labRawDir, loadLabPaths, openLabStore, sampleLabDir } from '../../../src/lab/index.js';
import { useTempHome } from '../helpers.js';
import { sharedDatasets, smallZip, truncatedTarGz } from './shared.js';

const tempHome = useTempHome();
const sampleFile = join(sampleLabDir, 'sample-incident.jsonl');

/** Every table of the store, row by row in store order, and the raw files' bytes. */
async function storeContents(home: string) {
  const store = await openLabStore(home, { readOnly: true, seedFile: null });
  try {
    const table = (sql: string) => store.database.all(sql);
    const search = await store.siem.searchEvents({ text: 'whoami', limit: 500, offset: 0 });
    return {
      events: await table('SELECT * FROM events ORDER BY seq'),
      commandEvents: await table('SELECT * FROM command_events ORDER BY seq'),
      processes: await table('SELECT * FROM processes ORDER BY seq'),
      commandLines: await table('SELECT * FROM command_lines ORDER BY command_id'),
      files: await table('SELECT * EXCLUDE (loaded_at) FROM files ORDER BY file_id'),
      raw: Object.fromEntries(
        readdirSync(labRawDir(home)).map((name) => [name, readFileSync(join(labRawDir(home), name))]),
      ),
      search: { total: search.total, ids: search.events.map((event) => event.id) },
    };
  } finally {
    store.close();
  }
}

describe('lab load on worker threads', () => {
  it('numbers events and command lines, reports errors and keeps raw records as a one-by-one load does', async () => {
    const dir = tempHome();
    const lines = readFileSync(sampleFile, 'utf8').split('\n').filter(Boolean);
    // Two edits of the sample: new content (so not skipped as the seed), command lines shared with it.
    writeFileSync(
      join(dir, 'a-edited.jsonl'),
      `${lines.map((line) => line.replace('FIN-WS01', 'A-WS01')).join('\n')}\n`,
    );
    const b = lines.map((line) => line.replace('FIN-WS01', 'B-WS02').replace(/whoami/gi, 'WhoAmI /all'));
    b.splice(3, 0, '{"EventID": 1, "Hostname": ');
    writeFileSync(join(dir, 'b-edited.jsonl'), `${b.join('\n')}\n`);
    writeFileSync(join(dir, 'c-copy-of-a.jsonl'), readFileSync(join(dir, 'a-edited.jsonl')));
    writeFileSync(join(dir, 'd-garbage.zip'), Buffer.from('PK\u0003\u0004 not a zip'));
    const paths = [
      dir,
      ...(sharedDatasets ? [join(sharedDatasets, smallZip), join(sharedDatasets, truncatedTarGz)] : []),
    ];

    const oneByOne = tempHome();
    const parallel = tempHome();
    const serialResult = await loadLabPaths(oneByOne, paths, { workers: 0 });
    const parallelResult = await loadLabPaths(parallel, paths, { workers: 3 });

    expect(parallelResult).toEqual(serialResult);
    expect(serialResult).toMatchObject({ skipped: 1, failed: 1 });
    expect(serialResult.errors).toEqual(
      expect.arrayContaining([
        { file: join(dir, 'b-edited.jsonl'), line: 4, message: expect.stringMatching(/not valid JSON/) },
        { file: join(dir, 'd-garbage.zip'), line: null, message: expect.stringMatching(/unreadable/) },
      ]),
    );
    const serial = await storeContents(oneByOne);
    const threaded = await storeContents(parallel);
    expect(threaded).toEqual(serial);

    // The shared command lines got one id across files, and the garbage file used up its file id.
    const whoami = serial.commandLines.filter((row) => String(row.command_lower).includes('whoami'));
    expect(whoami.length).toBeGreaterThan(0);
    const idsByHost = new Map<string, Set<number>>();
    for (const row of serial.events)
      if (row.command_id !== null && /^(A-WS01|FIN-WS01)/.test(String(row.host)))
        (
          idsByHost.get(String(row.host)) ?? idsByHost.set(String(row.host), new Set()).get(String(row.host))
        )?.add(Number(row.command_id));
    expect([...(idsByHost.get('A-WS01') ?? [])].sort()).toEqual(
      [...(idsByHost.get('FIN-WS01') ?? [])].sort(),
    );
    // Seed 1, a 2, b 3, c skipped, the garbage 4 (not recorded), then the datasets' sources.
    expect(serial.files.map((row) => Number(row.file_id))).toEqual(
      sharedDatasets ? [1, 2, 3, 5, 6] : [1, 2, 3],
    );
    expect(serial.events.map((row) => Number(row.seq))).toEqual(serial.events.map((_, index) => index + 1));
    expect(serial.search.total).toBeGreaterThan(0);
  }, 120_000);
});

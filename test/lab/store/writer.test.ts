import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labRawDir, loadLabPaths, openLabStore, sampleLabDir } from '../../../src/lab/index.js';
import { hashFile, sourceStem } from '../../../src/lab/loaders/sources.js';
import { stageSource } from '../../../src/lab/loaders/stage.js';
import type { StoreWriter } from '../../../src/lab/store/index.js';
import { createStoreWriter } from '../../../src/lab/store/index.js';
import { useTempHome } from '../helpers.js';

const tempHome = useTempHome();

/** Two edits of the sample incident (new content, command lines in common), as a.jsonl and b.jsonl. */
function writeSources(dir: string): string[] {
  const lines = readFileSync(join(sampleLabDir, 'sample-incident.jsonl'), 'utf8').split('\n').filter(Boolean);
  return ['A-WS01', 'B-WS02'].map((host, index) => {
    const path = join(dir, `${'ab'[index]}.jsonl`);
    writeFileSync(path, `${lines.map((line) => line.replace('FIN-WS01', host)).join('\n')}\n`);
    return path;
  });
}

/** Begins and stages a source as the loader does; the target is null when the store has its content. */
async function stage(writer: StoreWriter, path: string) {
  const target = writer.beginFile({ path, sha256: await hashFile(path), stem: sourceStem(path) });
  if (!target) throw new Error(`${path} was loaded before`);
  const staged = await stageSource({ path, kind: 'json', ...target });
  return { target, staged };
}

async function contents(home: string) {
  const store = await openLabStore(home, { readOnly: true, seedFile: null });
  try {
    return {
      events: await store.database.all('SELECT * FROM events ORDER BY seq'),
      commandLines: await store.database.all('SELECT * FROM command_lines ORDER BY command_id'),
      files: await store.database.all('SELECT * EXCLUDE (loaded_at) FROM files ORDER BY file_id'),
      raw: readdirSync(labRawDir(home)).sort(),
    };
  } finally {
    store.close();
  }
}

/**
 * Commits the first source, then the second with its staged rows removed, so that its insert fails;
 * `flush` commits the first one's transaction before.
 */
async function commitWithFailure(home: string, [a, b]: string[], options: { flush: boolean }) {
  const store = await openLabStore(home, { readOnly: false, seedFile: null });
  try {
    const writer = await createStoreWriter(store.database);
    const first = await stage(writer, a as string);
    expect(await writer.commit(first.target, first.staged, { errors: 0 })).toEqual({ events: 95 });
    if (options.flush) await writer.flush();
    const second = await stage(writer, b as string);
    rmSync(second.target.staging.columns);
    await expect(writer.commit(second.target, second.staged, { errors: 0 })).rejects.toThrow();
  } finally {
    store.close();
  }
}

describe('store writer transactions', () => {
  it('rolls back every source of a failed transaction, raw files included; a reload adds them', async () => {
    const home = tempHome();
    const sources = writeSources(home);
    await commitWithFailure(home, sources, { flush: false });
    expect(await contents(home)).toEqual({ events: [], commandLines: [], files: [], raw: [] });

    const reloaded = await loadLabPaths(home, sources, { seedFile: null });
    expect(reloaded).toMatchObject({ loaded: 2, skipped: 0, events: 190 });
    const fresh = tempHome();
    await loadLabPaths(fresh, sources, { seedFile: null });
    expect(await contents(home)).toEqual(await contents(fresh));
  });

  it('keeps the sources flushed before a failure', async () => {
    const home = tempHome();
    const sources = writeSources(home);
    await commitWithFailure(home, sources, { flush: true });
    const kept = await contents(home);
    expect(kept.files.map((row) => row.path)).toEqual([sources[0]]);
    expect(kept.events).toHaveLength(95);
    expect(kept.raw).toHaveLength(1);
    // The failed source is not recorded: the next load adds it and skips the kept one.
    expect(await loadLabPaths(home, sources, { seedFile: null })).toMatchObject({ loaded: 1, skipped: 1 });
  });
});

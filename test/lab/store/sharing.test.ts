import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StateError } from '../../../src/errors.js';
import { labStorePath, loadLabPaths, sampleLabDir } from '../../../src/lab/index.js';
import { useTempHome } from '../helpers.js';

const tempHome = useTempHome();
const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));

function startReader(home: string): { child: ChildProcessWithoutNullStreams; ready: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/lab/store/reader-process.ts', home], {
    cwd: projectRoot,
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const ready = new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (stdout.includes('\n')) resolve(stdout.trim());
    });
    child.once('exit', (code) => reject(new Error(`reader exited ${code}: ${stderr}`)));
  });
  return { child, ready };
}

async function stop(child: ChildProcessWithoutNullStreams): Promise<void> {
  child.stdin.write('close\n');
  await once(child, 'exit');
}

describe('lab store shared between processes', () => {
  it('is created once from the sample when two servers start together, and both read it at the same time', async () => {
    const home = tempHome();
    const readers = [startReader(home), startReader(home)];
    expect(await Promise.all(readers.map((reader) => reader.ready))).toEqual(['ready 95 1', 'ready 95 1']);
    expect(existsSync(labStorePath(home))).toBe(true);
    expect(readdirSync(join(home, 'lab')).filter((name) => name.includes('building'))).toEqual([]);
    await expect(loadLabPaths(home, [join(sampleLabDir, 'sample-incident.jsonl')])).rejects.toThrow(
      StateError,
    );
    await expect(loadLabPaths(home, [join(sampleLabDir, 'sample-incident.jsonl')])).rejects.toThrow(/in use/);
    await Promise.all(readers.map((reader) => stop(reader.child)));
    expect(await loadLabPaths(home, [join(sampleLabDir, 'sample-incident.jsonl')])).toMatchObject({
      skipped: 1,
    });
  });
});

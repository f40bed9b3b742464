import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StateError } from '../../src/errors.js';
import { openStore } from '../../src/store/index.js';
import { at, makeHome, removeHome } from './helpers.js';

const holderScript = path.resolve('test/fixtures/store-holder.ts');
const children: ChildProcess[] = [];
let home: string;

/** Starts a child that opens the store and resolves once it reports that it holds it. */
function startHolder(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', holderScript, home, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout?.on('data', (chunk) => {
      if (String(chunk).includes('ready')) resolve(child);
    });
    child.on('exit', (code) =>
      reject(new Error(`holder exited with ${code} before it was ready: ${stderr}`)),
    );
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

beforeAll(async () => {
  home = makeHome();
  // A half-written init dir is what a crash during initdb leaves behind.
  fs.mkdirSync(path.join(home, 'db.init-999-dead'));
  fs.writeFileSync(path.join(home, 'db.init-999-dead', 'PG_VERSION'), '17\n');
  const store = await openStore({ home });
  await store.runs.create({
    id: 'run-parent',
    alertId: 'a',
    alertTitle: 't',
    provider: 'offline',
    state: null,
    at: at(0),
  });
  await store.close();
});

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

afterAll(() => removeHome(home));

describe('store lock', () => {
  it('recovers from an interrupted first open', () => {
    expect(fs.existsSync(path.join(home, 'db', 'PG_VERSION'))).toBe(true);
    expect(fs.readdirSync(home).sort()).toEqual(['db']);
  });

  it('reports a busy store while another process holds it, and opens once it has exited', async () => {
    const child = await startHolder([]);
    const started = Date.now();
    const opening = openStore({ home, lockTimeoutMs: 600 });
    await expect(opening).rejects.toThrow(StateError);
    await expect(opening).rejects.toThrow(`store at ${home} is busy`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);

    child.stdin?.write('close\n');
    expect(await exited(child)).toBe(0);
    const store = await openStore({ home, lockTimeoutMs: 2000 });
    expect(await store.runs.get('run-parent')).toMatchObject({ id: 'run-parent' });
    await store.close();
  });

  it('waits for a holder that closes within the timeout', async () => {
    const child = await startHolder([]);
    setTimeout(() => child.stdin?.write('close\n'), 300);
    const store = await openStore({ home, lockTimeoutMs: 10_000 });
    expect(await exited(child)).toBe(0);
    await store.close();
  });

  it('takes over the lock of a SIGKILLed holder after the stale window and keeps its writes', async () => {
    const child = await startHolder(['2000', 'run-child']);
    expect(fs.existsSync(path.join(home, 'db.lock'))).toBe(true);
    child.kill('SIGKILL');
    await exited(child);
    expect(fs.existsSync(path.join(home, 'db.lock'))).toBe(true);

    const started = Date.now();
    const store = await openStore({ home, lockTimeoutMs: 10_000, lockStaleMs: 2000 });
    expect(Date.now() - started).toBeLessThan(6000);
    expect(await store.runs.get('run-child')).toMatchObject({ state: { by: 'child' } });
    await store.close();
  });

  it('stops serving queries once its lock is lost, and a new open recovers', async () => {
    const store = await openStore({ home, lockStaleMs: 2000 });
    await store.runs.get('run-parent');
    fs.rmdirSync(path.join(home, 'db.lock'));
    let failure: unknown;
    for (let attempt = 0; attempt < 50 && !failure; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      failure = await store.runs.get('run-parent').then(
        () => undefined,
        (error: unknown) => error,
      );
    }
    expect(failure).toBeInstanceOf(StateError);
    expect(String(failure)).toContain('lost its lock');
    await store.close();

    const reopened = await openStore({ home, lockTimeoutMs: 2000 });
    expect(await reopened.runs.get('run-parent')).toMatchObject({ id: 'run-parent' });
    await reopened.close();
  });

  it('refuses a second open in the same process', async () => {
    const store = await openStore({ home });
    await expect(openStore({ home, lockTimeoutMs: 300 })).rejects.toThrow(/busy/);
    await store.close();
    expect(fs.existsSync(path.join(home, 'db.lock'))).toBe(false);
  });
});

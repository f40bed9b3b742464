import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Cross-process hand-off for paused runs on one machine: a process waiting to resume a run
 * registers itself; whoever decides an approval touches the run's signal file.
 */

function signalPath(home: string, runId: string): string {
  return join(home, 'signals', `${runId}.signal`);
}

function waiterPath(home: string, runId: string): string {
  return join(home, 'waiters', `${runId}.json`);
}

export async function touchSignal(home: string, runId: string): Promise<void> {
  await mkdir(join(home, 'signals'), { recursive: true });
  await writeFile(signalPath(home, runId), new Date().toISOString());
}

async function signalTime(home: string, runId: string): Promise<number> {
  try {
    return (await stat(signalPath(home, runId))).mtimeMs;
  } catch {
    return 0;
  }
}

export async function registerWaiter(home: string, runId: string): Promise<void> {
  await mkdir(join(home, 'waiters'), { recursive: true });
  await writeFile(waiterPath(home, runId), JSON.stringify({ pid: process.pid, host: hostname() }));
}

export async function unregisterWaiter(home: string, runId: string): Promise<void> {
  await rm(waiterPath(home, runId), { force: true });
}

/** True when a live process on this machine has said it will resume the run itself. */
export async function hasLiveWaiter(home: string, runId: string): Promise<boolean> {
  try {
    const waiter = JSON.parse(await readFile(waiterPath(home, runId), 'utf8')) as {
      pid: number;
      host: string;
    };
    if (waiter.host !== hostname()) return false;
    process.kill(waiter.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves with the first run whose signal changes after the call, or null after `timeoutMs`; polls file times, cheap. */
export async function waitForSignal(
  home: string,
  runIds: readonly string[],
  options: { pollMs?: number; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<string | null> {
  const baseline = new Map(
    await Promise.all(runIds.map(async (runId) => [runId, await signalTime(home, runId)] as const)),
  );
  const deadline = Date.now() + (options.timeoutMs ?? Number.POSITIVE_INFINITY);
  while (Date.now() < deadline) {
    options.signal?.throwIfAborted();
    for (const runId of runIds) {
      if ((await signalTime(home, runId)) !== baseline.get(runId)) return runId;
    }
    await sleep(options.pollMs ?? 250, undefined, options.signal ? { signal: options.signal } : {});
  }
  return null;
}

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/index.js';
import { openStore } from '../../src/store/index.js';
import { tempHome, tsxArgs } from '../helpers.js';

describe('audit crash safety', () => {
  it('a process killed with SIGKILL while appending leaves a chain that verifies up to its last complete event', async () => {
    const home = tempHome('warden-crash-');
    const child = spawn(process.execPath, tsxArgs('test/fixtures/audit-appender.ts', home, 'crash-run'), {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acknowledged = 0;
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const lines = chunk.toString().trim().split('\n');
        acknowledged = Number(lines.at(-1));
        // Kill well into the stream, at an arbitrary point of some append.
        if (acknowledged >= 300) resolve();
      });
      child.on('exit', (code) => reject(new Error(`appender exited early with ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const store = await openStore({ home, lockStaleMs: 2000, lockTimeoutMs: 30_000 });
    try {
      const events = await store.audit.list('crash-run');
      // Every append the child saw committed is there; at most the one in flight is lost or whole.
      expect(events.length).toBeGreaterThanOrEqual(acknowledged);
      expect(verifyChain('crash-run', events, [])).toMatchObject({ status: 'ok', events: events.length });
      const next = await store.audit.append(
        'crash-run',
        'run-end',
        { status: 'killed' },
        new Date().toISOString(),
      );
      expect(next.seq).toBe(events.length + 1);
      expect(verifyChain('crash-run', await store.audit.list('crash-run'), [])).toMatchObject({
        status: 'ok',
      });
    } finally {
      await store.close();
    }
  }, 60_000);
});

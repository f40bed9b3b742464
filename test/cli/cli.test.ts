import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { tempHome, tsxArgs } from '../helpers.js';

const run = promisify(execFile);
// Plain output whatever the environment (picocolors turns colours on when CI is set, even into pipes).
const env = { ...process.env, NO_COLOR: '1' };
const MAIN = 'src/cli/main.ts';
const MSHTA_ALERT = 'examples/alerts/mshta-powershell.json';

async function warden(
  home: string,
  ...args: string[]
): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, tsxArgs(MAIN, '--home', home, ...args), {
      timeout: 120_000,
      env,
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

const approvalPattern = /awaiting approval (apr-[0-9a-f]+)/;
const runPattern = /run (run-[0-9a-f]+)/;

describe('warden CLI', { timeout: 180_000 }, () => {
  it('pauses a run in one process and resumes it there when another process approves', async () => {
    const home = tempHome();
    const child = spawn(process.execPath, tsxArgs(MAIN, '--home', home, 'triage', MSHTA_ALERT, '--wait'), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const approvalId = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = approvalPattern.exec(stdout);
        if (match?.[1] && stdout.includes('waiting for a decision')) resolve(match[1]);
      });
      void exited.then(() => reject(new Error(`triage exited before pausing:\n${stdout}\n${stderr}`)));
    });
    const runId = runPattern.exec(stdout)?.[1];
    expect(runId).toBeDefined();
    expect(stdout).toMatch(/MALICIOUS/);
    expect(stdout).toMatch(/edr\.isolate_host/);

    const approved = await warden(
      home,
      'approvals',
      'approve',
      approvalId,
      '--by',
      'alice',
      '--note',
      'confirmed with finance',
    );
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(new RegExp(`${approvalId} approved by alice`));
    expect(approved.stdout).toMatch(/resumes in the process that is waiting/);

    // The waiting process runs the isolation, then pauses on the next destructive action.
    const nextApproval = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const next = [...stdout.matchAll(new RegExp(approvalPattern, 'g'))]
          .map((match) => match[1])
          .find((id) => id !== approvalId);
        if (next) {
          clearInterval(timer);
          resolve(next);
        }
      }, 100);
      void exited.then(() => {
        clearInterval(timer);
        reject(new Error(`triage exited early:\n${stdout}\n${stderr}`));
      });
    });
    expect(stdout).toMatch(/✓ edr\.isolate_host .* executed/);
    expect((await warden(home, 'approvals', 'deny', nextApproval, '--by', 'alice')).code).toBe(0);

    expect(await exited).toBe(0);
    expect(stdout).toMatch(/✗ edr\.kill_process .* rejected: denied by alice/);
    expect(stdout).toMatch(/status\s+completed/);

    const audit = await warden(home, 'audit', 'show', runId ?? '', '--json');
    const events = audit.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; seq: number; data: Record<string, unknown> });
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    const types = events.map((event) => event.type);
    expect(types[0]).toBe('run-start');
    expect(types.at(-1)).toBe('run-end');
    const request = types.indexOf('tool-approval-request');
    const response = types.indexOf('tool-approval-response');
    expect(request).toBeGreaterThan(types.indexOf('run-verdict'));
    expect(response).toBeGreaterThan(request);
    expect(events[response]?.data).toMatchObject({
      status: 'approved',
      by: 'alice',
      note: 'confirmed with finance',
    });
    const isolated = events
      .slice(response)
      .find((event) => event.type === 'tool-call-result' && event.data.tool === 'edr.isolate_host');
    expect(isolated?.data).toMatchObject({ isError: false });

    const again = await warden(home, 'approvals', 'approve', approvalId, '--by', 'mallory');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already approved by alice/);
  });

  it('runs the demo, then resumes a paused run in the approving process when nobody waits', async () => {
    const home = tempHome();
    const demo = await warden(home, 'demo');
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/MALICIOUS/);
    expect(demo.stdout).toMatch(/BENIGN/);
    const approvalId = approvalPattern.exec(demo.stdout)?.[1];
    expect(approvalId).toBeDefined();

    const listed = await warden(home, 'approvals', 'list');
    expect(listed.stdout).toContain(approvalId);
    expect(listed.stdout).toMatch(/edr\.isolate_host/);

    const denied = await warden(
      home,
      'approvals',
      'deny',
      approvalId ?? '',
      '--by',
      'bob',
      '--note',
      'known pentest',
    );
    expect(denied.code).toBe(0);
    expect(denied.stdout).toMatch(/✗ edr\.isolate_host .* rejected: denied by bob: known pentest/);
    const next = approvalPattern.exec(denied.stdout)?.[1];
    expect(next).toBeDefined();
    expect((await warden(home, 'approvals', 'deny', next ?? '', '--by', 'bob')).stdout).toMatch(
      /status\s+completed/,
    );
    expect((await warden(home, 'approvals', 'list')).stdout).toMatch(/no pending approvals/);
  });

  it('rejects a malformed alert with one line naming the field, exit code 2, and no run', async () => {
    const home = tempHome();
    const file = join(home, 'bad.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ id: 'x', title: 't', severity: 'high', time: '2026-11-18T09:00:00Z' })}\n{"id":"y","title":"t","severity":"urgent","time":"2026-11-18T09:00:00Z"}\n`,
    );
    const result = await warden(home, 'triage', file);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/line 2: field 'severity' is invalid/);
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    expect((await warden(home, 'runs', 'list')).stdout).toMatch(/no runs yet/);
  });

  it('rejects a malformed config naming the key', async () => {
    const home = tempHome();
    const config = join(home, 'warden.yaml');
    writeFileSync(config, 'limits:\n  maxToolCalls: lots\n');
    const result = await warden(home, '--config', config, 'triage', MSHTA_ALERT);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/limits\.maxToolCalls/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findKillSwitch, killSwitchPath, openKillSwitchBoard } from '../../src/control/index.js';
import { tempHome } from '../helpers.js';

describe('kill-switch board', () => {
  it('has no switch without a file, and engages and releases through it', async () => {
    const home = tempHome('warden-kill-');
    const board = openKillSwitchBoard(home);
    expect(board.current()).toEqual([]);
    const engaged = await board.engage(
      { type: 'tool', tool: 'edr.isolate_host' },
      'alice',
      'test',
      new Date(),
    );
    expect(findKillSwitch(board.current(), { runId: 'r', tool: 'edr.isolate_host' })?.id).toBe(engaged.id);
    expect(findKillSwitch(board.current(), { runId: 'r', tool: 'edr.process_tree' })).toBeNull();
    await board.release(engaged.id);
    expect(board.current()).toEqual([]);
  });

  it('fails closed: a switch file that is not valid JSON, or has the wrong shape, stops everything and says why', () => {
    const home = tempHome('warden-kill-');
    const path = killSwitchPath(home);
    mkdirSync(dirname(path), { recursive: true });
    const board = openKillSwitchBoard(home);
    for (const content of ['{"switches": [', '{"switches": [{"id": 1}]}']) {
      writeFileSync(path, content);
      const [stop] = board.current();
      expect(stop?.scope).toEqual({ type: 'all' });
      expect(stop?.reason).toContain(path);
      expect(findKillSwitch(board.current(), { runId: 'any' })).not.toBeNull();
    }
    writeFileSync(path, '{"switches": []}');
    expect(board.current()).toEqual([]);
  });

  it('fails closed when the switch file cannot be read', () => {
    const home = tempHome('warden-kill-');
    // A directory where the file should be: stat succeeds, reading fails (EISDIR), even as root.
    mkdirSync(killSwitchPath(home), { recursive: true });
    const [stop] = openKillSwitchBoard(home).current();
    expect(stop?.scope).toEqual({ type: 'all' });
    expect(stop?.reason).toMatch(/cannot be read/);
  });
});

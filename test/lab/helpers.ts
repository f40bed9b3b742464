import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** A fresh Warden home per test, removed afterwards. */
export function useTempHome(): () => string {
  const homes: string[] = [];
  afterEach(() => {
    for (const home of homes.splice(0))
      rmSync(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });
  return () => {
    const home = mkdtempSync(join(tmpdir(), 'warden-lab-'));
    homes.push(home);
    return home;
  };
}

/** Process GUIDs and indicators of the sample incident (see examples/lab/README.md). */
export const sample = {
  outlookGuid: '{7c2d41a9-64a6-6afd-3f03-000000000b00}',
  mshtaGuid: '{7c2d41a9-6c77-6afd-6503-000000000b00}',
  powershellGuid: '{7c2d41a9-6c79-6afd-7803-000000000b00}',
  whoamiGuid: '{7c2d41a9-6c81-6afd-8b03-000000000b00}',
  nltestGuid: '{7c2d41a9-6c82-6afd-9e03-000000000b00}',
  adminPowershellGuid: '{b3e90f12-6993-6afd-2c03-000000000900}',
  rundllGuid: '{5a1f6c3e-7720-6afd-5203-000000000a00}',
  callbackIp: '203.0.113.47',
  callbackDomain: 'cdn.remitvault-docs.com',
} as const;

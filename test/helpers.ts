import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export function tempHome(prefix = 'warden-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** `node --import tsx` arguments, so child processes run the TypeScript sources directly. */
export function tsxArgs(script: string, ...args: string[]): string[] {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return ['--import', tsx, script, ...args];
}

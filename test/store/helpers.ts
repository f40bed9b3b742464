import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary Warden home; each one costs an initdb (~2-3 s) on first open, so share it within a file. */
export function makeHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'warden-store-'));
}

export function removeHome(home: string): void {
  fs.rmSync(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

export const T0 = '2025-01-01T10:00:00.000Z';

/** ISO time `minutes` after T0. */
export function at(minutes: number): string {
  return new Date(Date.parse(T0) + minutes * 60_000).toISOString();
}

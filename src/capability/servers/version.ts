import { createRequire } from 'node:module';

/** Warden's package version, reported by every bundled server (same relative path from `src/` and `dist/`). */
export const serverVersion: string = (
  createRequire(import.meta.url)('../../../package.json') as { version: string }
).version;

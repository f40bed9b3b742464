import { createRequire } from 'node:module';

/** Warden's package version (same relative path to package.json from `src/` and `dist/`). */
export const WARDEN_VERSION: string = (
  createRequire(import.meta.url)('../package.json') as { version: string }
).version;

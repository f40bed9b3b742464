import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from '../store/index.js';
import type { CredentialClaims } from './token.js';

/**
 * The uses of one-call credentials (tokens bound to one call's arguments), recorded by the server
 * that verifies them so that a token runs one call only, in whichever process presents it:
 * `<home>/control/credential-uses/<expiry minute>/<token id>`, created with O_CREAT|O_EXCL, an
 * atomic claim across processes. The file is written (to the OS file cache) before the tool runs;
 * every later presentation, to this server or to another on the same home, finds it and is refused.
 * A minute's folder goes once every token expiring in it has expired (by then no check can pass).
 */
export function credentialUsesPath(home: string): string {
  return join(home, 'control', 'credential-uses');
}

/** `detail` reads the first use's record (when, for which run), for a refusal's reason. */
export type UseClaim = { type: 'claimed' } | { type: 'used'; detail: () => string };

function describeUse(path: string): string {
  let first = '';
  try {
    first = readFileSync(path, 'utf8').trim();
  } catch {
    first = '';
  }
  return first ? `already used at ${first}` : 'already used';
}

export interface UseLedger {
  /**
   * Records the one use of a one-call token, or says it was used already (when and for which run).
   * The verifying server claims it before the call runs; the gateway again once the call is over,
   * which finds it claimed unless the call never reached a server that records uses.
   */
  claim(token: Pick<CredentialClaims, 'id' | 'runId' | 'expiresAt'>, now: Date): UseClaim;
}

const minuteMs = 60_000;
/** Folders are kept this long after their minute ends, beyond any expiry check's clock reading. */
const keepMs = 2 * minuteMs;
/** How often one process looks for folders to drop. */
const sweepEveryMs = minuteMs;

/** Token ids are `cred-<hex>`; anything else (a hand-made claim set) is named by its hash. */
function fileName(id: string): string {
  return /^[\w-]{1,64}$/.test(id) ? id : `sha256-${sha256Hex(id)}`;
}

export function openUseLedger(home: string): UseLedger {
  const root = credentialUsesPath(home);
  let nextSweep = 0;
  const sweep = (at: number) => {
    if (at < nextSweep) return;
    nextSweep = at + sweepEveryMs;
    let folders: string[];
    try {
      folders = readdirSync(root);
    } catch {
      return;
    }
    // In the background: nothing in a past minute's folder can be claimed again.
    for (const folder of folders) {
      const minute = Number(folder);
      if (Number.isInteger(minute) && (minute + 1) * minuteMs + keepMs < at)
        void rm(join(root, folder), { recursive: true, force: true }).catch(() => undefined);
    }
  };
  return {
    claim(claims, now) {
      const at = now.getTime();
      const folder = join(root, String(Math.floor(claims.expiresAt / minuteMs)));
      const path = join(folder, fileName(claims.id));
      const record = `${now.toISOString()} run ${claims.runId}\n`;
      try {
        try {
          writeFileSync(path, record, { flag: 'wx', mode: 0o600 });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
          mkdirSync(folder, { recursive: true, mode: 0o700 });
          writeFileSync(path, record, { flag: 'wx', mode: 0o600 });
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new Error(
            `the use of one-call credential ${claims.id} cannot be recorded in ${folder} (${(error as Error).message}); the server needs write access to ${root}`,
            { cause: error },
          );
        return { type: 'used', detail: () => describeUse(path) };
      }
      sweep(at);
      return { type: 'claimed' };
    },
  };
}

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { type JsonFile, jsonFile } from '../store/index.js';
import type { CredentialClaims } from './token.js';

/**
 * Revoked credentials, in a small file beside the kill switch so every process on the home
 * (the gateway, a stdio or HTTP server, the CLI) sees a revocation on the very next call.
 * An entry names one token, or every token of a run (or of everything) issued up to a time.
 */
const entrySchema = z.object({
  tokenId: z.string().optional(),
  runId: z.string().optional(),
  /** Tokens issued at or before this time (ms) are revoked; absent for a single token. */
  issuedBefore: z.number().int().optional(),
  /** After this (ms), no token the entry covers can still be valid, so the entry is dropped. */
  forgetAfter: z.number().int(),
  reason: z.string(),
  at: z.string(),
});

const stateSchema = z.object({ revoked: z.array(entrySchema) });

export type Revocation = z.infer<typeof entrySchema>;

/** The longest a credential may live; bounds how long revocation entries are kept. */
export const maxCredentialTtlSeconds = 3600;

export function revocationListPath(home: string): string {
  return join(home, 'control', 'credential-revocations.json');
}

export interface RevocationList {
  /** The revocation that covers these claims, if any; re-reads the file only when it changed. */
  revocationOf(claims: CredentialClaims): Revocation | null;
  revokeTokens(
    tokens: ReadonlyArray<{ id: string; expiresAt: number }>,
    reason: string,
    now: Date,
  ): Promise<void>;
  /** Every token of `runId` (or of every run, when null) issued up to now. */
  revokeIssuedBefore(runId: string | null, reason: string, now: Date): Promise<void>;
}

function covers(entry: Revocation, claims: CredentialClaims): boolean {
  if (entry.tokenId !== undefined) return entry.tokenId === claims.id;
  if (entry.runId !== undefined && entry.runId !== claims.runId) return false;
  return entry.issuedBefore !== undefined && claims.issuedAt <= entry.issuedBefore;
}

export function openRevocationList(home: string): RevocationList {
  const path = revocationListPath(home);
  const file: JsonFile<z.infer<typeof stateSchema>> = jsonFile(path, stateSchema, () => ({ revoked: [] }));
  // Writes are atomic renames, so a new inode means new content, even within one mtime tick.
  let cached: { ino: number; mtimeMs: number; revoked: Revocation[] } | null = null;
  const current = (): Revocation[] => {
    let stats: { ino: number; mtimeMs: number };
    try {
      stats = statSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    if (cached?.ino !== stats.ino || cached.mtimeMs !== stats.mtimeMs)
      cached = { ino: stats.ino, mtimeMs: stats.mtimeMs, revoked: file.read().revoked };
    return cached.revoked;
  };
  const add = (entries: Revocation[], now: Date) =>
    file.update((state) => {
      state.revoked = state.revoked.filter((entry) => entry.forgetAfter > now.getTime());
      state.revoked.push(...entries);
    });
  return {
    revocationOf: (claims) => current().find((entry) => covers(entry, claims)) ?? null,
    async revokeTokens(tokens, reason, now) {
      if (tokens.length === 0) return;
      const at = now.toISOString();
      await add(
        tokens.map((token) => ({ tokenId: token.id, forgetAfter: token.expiresAt, reason, at })),
        now,
      );
    },
    async revokeIssuedBefore(runId, reason, now) {
      const at = now.toISOString();
      await add(
        [
          {
            ...(runId !== null ? { runId } : {}),
            issuedBefore: now.getTime(),
            forgetAfter: now.getTime() + maxCredentialTtlSeconds * 1000,
            reason,
            at,
          },
        ],
        now,
      );
    },
  };
}

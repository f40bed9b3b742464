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
  /** Only tokens of this server kind (a kill switch on one server). */
  server: z.string().optional(),
  /** Only calls of these bare tool names (a kill switch on a tool or an action class). */
  tools: z.array(z.string()).optional(),
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

/** Which tokens a bulk revocation covers: all of them, or those of a run, a server kind, some tools. */
export interface RevocationMatch {
  runId?: string;
  server?: string;
  tools?: readonly string[];
}

export interface RevocationList {
  /**
   * The revocation that covers these claims, if any, for a call of `tool` (a bare name; without
   * it, any tool the claims allow); re-reads the file only when it changed.
   */
  revocationOf(claims: CredentialClaims, tool?: string): Revocation | null;
  revokeTokens(
    tokens: ReadonlyArray<{ id: string; expiresAt: number }>,
    reason: string,
    now: Date,
  ): Promise<void>;
  /** Every token of `runId` (or of every run, when null) issued up to now. */
  revokeIssuedBefore(runId: string | null, reason: string, now: Date): Promise<void>;
  /** Every token issued up to now that the match covers (one entry per match). */
  revokeMatching(matches: readonly RevocationMatch[], reason: string, now: Date): Promise<void>;
}

function covers(entry: Revocation, claims: CredentialClaims, tool: string | undefined): boolean {
  if (entry.tokenId !== undefined) return entry.tokenId === claims.id;
  if (entry.runId !== undefined && entry.runId !== claims.runId) return false;
  if (entry.server !== undefined && entry.server !== claims.server) return false;
  if (entry.tools !== undefined) {
    const killed = entry.tools;
    const hit =
      tool !== undefined
        ? killed.includes(tool)
        : claims.tools.includes('*') || claims.tools.some((allowed) => killed.includes(allowed));
    if (!hit) return false;
  }
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
  const revokeMatching = async (matches: readonly RevocationMatch[], reason: string, now: Date) => {
    const at = now.toISOString();
    await add(
      matches.map((match) => ({
        ...(match.runId !== undefined ? { runId: match.runId } : {}),
        ...(match.server !== undefined ? { server: match.server } : {}),
        ...(match.tools !== undefined ? { tools: [...match.tools] } : {}),
        issuedBefore: now.getTime(),
        forgetAfter: now.getTime() + maxCredentialTtlSeconds * 1000,
        reason,
        at,
      })),
      now,
    );
  };
  return {
    revocationOf: (claims, tool) => current().find((entry) => covers(entry, claims, tool)) ?? null,
    async revokeTokens(tokens, reason, now) {
      if (tokens.length === 0) return;
      const at = now.toISOString();
      await add(
        tokens.map((token) => ({ tokenId: token.id, forgetAfter: token.expiresAt, reason, at })),
        now,
      );
    },
    revokeMatching,
    async revokeIssuedBefore(runId, reason, now) {
      await revokeMatching([runId !== null ? { runId } : {}], reason, now);
    },
  };
}

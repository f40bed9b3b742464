import { randomBytes } from 'node:crypto';
import type { WardenConfig } from '../config/index.js';
import {
  type CredentialSigningKey,
  loadCredentialSigningKey,
  maxCredentialTtlSeconds,
  openRevocationList,
  type RevocationList,
  type RevocationMatch,
  signCredential,
  tokenFingerprint,
} from '../credential/index.js';
import { InputError } from '../errors.js';
import type { KillScope } from './killswitch.js';
import { bundledServerKinds, bundledToolsOf, createTierRegistry } from './tiers.js';

/** A minted credential. `token` goes only into MCP request metadata, never into audit, logs or model context. */
export interface IssuedCredential {
  token: string;
  id: string;
  runId: string;
  /** The bundled server kind it is valid on. */
  server: string;
  tools: string[];
  argsHash: string | null;
  issuedAt: number;
  expiresAt: number;
  /** SHA-256 prefix of the token: what the audit trail records in its place. */
  fingerprint: string;
}

export interface MintRequest {
  runId: string;
  server: string;
  tools: readonly string[];
  /** Binds the credential to exactly one call's canonical arguments. */
  argsHash?: string;
  ttlSeconds: number;
}

/** The control layer's side of scoped credentials: mints with the private key, revokes for every process at once. */
export interface CredentialIssuer {
  mint(request: MintRequest): IssuedCredential;
  revoke(credentials: ReadonlyArray<{ id: string; expiresAt: number }>, reason: string): Promise<void>;
  /** Revokes every credential of a run (or of every run when null) issued until now, wherever it was minted. */
  revokeIssuedBefore(runId: string | null, reason: string): Promise<void>;
  /** Revokes, for calls of the matched server kinds and tools, every credential issued until now. */
  revokeMatching(matches: readonly RevocationMatch[], reason: string): Promise<void>;
}

/** What the audit trail records about a credential: never the token. */
export function describeCredential(credential: IssuedCredential): Record<string, unknown> {
  return {
    credentialId: credential.id,
    fingerprint: credential.fingerprint,
    server: credential.server,
    tools: credential.tools,
    argsHash: credential.argsHash,
    expiresAt: new Date(credential.expiresAt).toISOString(),
  };
}

/**
 * @example
 * const issuer = createCredentialIssuer({ home });
 * const credential = issuer.mint({ runId, server: 'siem', tools: ['search_events'], ttlSeconds: 300 });
 */
export function createCredentialIssuer(options: {
  home: string;
  /** Recorded in the token: the gateway, or the operator who minted it. */
  issuer?: string;
  env?: Record<string, string | undefined>;
  now?: () => Date;
  revocations?: RevocationList;
}): CredentialIssuer {
  const now = options.now ?? (() => new Date());
  const revocations = options.revocations ?? openRevocationList(options.home);
  // Loaded on first mint, so a gateway with only external servers never creates a key.
  let key: CredentialSigningKey | null = null;
  return {
    mint(request) {
      if (
        !Number.isFinite(request.ttlSeconds) ||
        request.ttlSeconds <= 0 ||
        request.ttlSeconds > maxCredentialTtlSeconds
      )
        throw new InputError(
          `credential ttl must be 1-${maxCredentialTtlSeconds} seconds, got ${request.ttlSeconds}`,
        );
      if (request.tools.length === 0) throw new InputError('a credential must name at least one tool');
      key ??= loadCredentialSigningKey(options.home, options.env);
      const issuedAt = now().getTime();
      const claims = {
        id: `cred-${randomBytes(8).toString('hex')}`,
        runId: request.runId,
        server: request.server,
        tools: [...request.tools],
        ...(request.argsHash ? { argsHash: request.argsHash } : {}),
        issuedAt,
        expiresAt: issuedAt + Math.round(request.ttlSeconds * 1000),
        issuer: options.issuer ?? 'warden-gateway',
      };
      const token = signCredential(claims, key.privateKey);
      return {
        token,
        id: claims.id,
        runId: claims.runId,
        server: claims.server,
        tools: claims.tools,
        argsHash: request.argsHash ?? null,
        issuedAt,
        expiresAt: claims.expiresAt,
        fingerprint: tokenFingerprint(token),
      };
    },
    revoke: (credentials, reason) => revocations.revokeTokens(credentials, reason, now()),
    revokeIssuedBefore: (runId, reason) => revocations.revokeIssuedBefore(runId, reason, now()),
    revokeMatching: (matches, reason) => revocations.revokeMatching(matches, reason, now()),
  };
}

/**
 * What engaging a kill switch revokes, so that even a call that bypasses the gateway is refused:
 * every credential of the run or of everything; for a server, its credentials; for a tool or an
 * action class, calls of those tools under any credential issued before now (the server's other
 * tools keep working). External servers get no Warden credentials: the gateway's refusal is the
 * control there, and the result is empty for them.
 */
export function killRevocations(
  scope: KillScope,
  config: Pick<WardenConfig, 'servers' | 'tiers' | 'tierRules'>,
): RevocationMatch[] {
  const kinds = bundledServerKinds(config);
  switch (scope.type) {
    case 'all':
      return [{}];
    case 'run':
      return [{ runId: scope.runId }];
    case 'server': {
      const kind = kinds.get(scope.server);
      return kind ? [{ server: kind }] : [];
    }
    case 'tool': {
      const dot = scope.tool.indexOf('.');
      const kind = dot > 0 ? kinds.get(scope.tool.slice(0, dot)) : undefined;
      return kind ? [{ server: kind, tools: [scope.tool.slice(dot + 1)] }] : [];
    }
    case 'tier': {
      const registry = createTierRegistry({ overrides: config.tiers, bundledKinds: kinds, rules: [] });
      const matches: RevocationMatch[] = [];
      for (const [name, kind] of kinds) {
        const tools = bundledToolsOf(kind).filter((tool) => {
          const qualified = `${name}.${tool}`;
          // An argument rule can lift a tool into the class for some calls: revoke it too.
          return (
            registry.tierOf(qualified).tier === scope.tier ||
            config.tierRules.some((rule) => rule.tool === qualified && rule.tier === scope.tier)
          );
        });
        if (tools.length > 0) matches.push({ server: kind, tools });
      }
      return matches;
    }
  }
}

import {
  type CredentialIssuer,
  describeCredential,
  hashArgs,
  type IssuedCredential,
} from '../../control/index.js';
import { credentialMetaKey, runMetaKey } from '../../credential/index.js';
import { describeError } from '../../errors.js';
import { logger } from '../../logging.js';
import type { ServerConnection } from './connections.js';

type AuditAppend = (type: string, data: unknown) => Promise<{ id: string }>;

/** Re-mint a standing credential when less than this is left, so it never expires mid-call. */
const RENEW_MARGIN_MS = 30_000;
/** A one-call credential only has to reach the server. */
const ONE_CALL_TTL_SECONDS = 60;

export interface CallCredential {
  /** The MCP request `_meta` carrying the token; the token goes nowhere else. */
  meta: Record<string, string>;
  /**
   * Set when the credential covers only this call: the server that verifies it records its use and
   * refuses it ever after (credential/single-use.ts); revoked too once the call returns, as defence in depth.
   */
  oneCall: IssuedCredential | null;
}

export interface GatewayCredentials {
  /** The credential for one call to a bundled server (minted and audited when needed); null for external servers. */
  forCall(
    context: { runId: string; callId: string; audit: AuditAppend },
    connection: ServerConnection,
    toolName: string,
    args: Record<string, unknown>,
  ): Promise<CallCredential | null>;
  /**
   * After the call: queues the revocation of a one-call credential, written behind the call (several
   * calls' revocations in one write) and audited once written, or audited with its error.
   */
  afterCall(credential: CallCredential | null, audit: AuditAppend): void;
  /**
   * Revokes every credential this gateway minted for the run: at run end and at every pause, after
   * waiting for the one-call revocations still being written.
   */
  endRun(runId: string, reason: string, audit: AuditAppend): Promise<void>;
  /** Waits until every queued one-call revocation is written and audited (gateway close). */
  settled(): Promise<void>;
}

/**
 * Per (run, server) standing credentials covering the tools a run may call without a human
 * (`standingTools`), and one-call credentials bound to the arguments for anything else the
 * control checks let through (an approved destructive action, say).
 */
export function createGatewayCredentials(options: {
  issuer: CredentialIssuer;
  ttlSeconds: number;
  /** Bare tool names of this connection that a run may call without approval. */
  standingTools: (connection: string) => readonly string[];
  now: () => Date;
}): GatewayCredentials {
  const standing = new Map<string, Map<string, IssuedCredential>>();
  // One-call credentials used and not yet revoked, with the trail of the run that used each.
  let usedQueue: Array<{ credential: IssuedCredential; audit: AuditAppend }> = [];
  let writing: Promise<void> | null = null;

  /** Revokes one batch of used credentials in one write and records it in each run's trail. */
  async function revokeUsed(batch: Array<{ credential: IssuedCredential; audit: AuditAppend }>) {
    let failure: unknown = null;
    try {
      await options.issuer.revoke(
        batch.map((entry) => entry.credential),
        'one-call credential used',
      );
    } catch (error) {
      // The servers already refuse a second use; the credentials die within their one-minute life.
      failure = error;
      logger.warn(
        { err: error, credentials: batch.map((entry) => entry.credential.id) },
        'one-call credentials not revoked',
      );
    }
    const byTrail = new Map<AuditAppend, string[]>();
    for (const { credential, audit } of batch)
      byTrail.set(audit, [...(byTrail.get(audit) ?? []), credential.id]);
    await Promise.all(
      [...byTrail].map(([audit, credentialIds]) =>
        audit('credential-revoke', {
          credentialIds,
          reason: 'used',
          ...(failure !== null ? { error: describeError(failure) } : {}),
        }).catch((error: unknown) =>
          logger.error(
            { err: error, credentials: credentialIds },
            'one-call credential revocation not audited',
          ),
        ),
      ),
    );
  }

  /** Writes the queue until it is empty: calls that return meanwhile share the next write. */
  function drainUsed(): Promise<void> {
    if (writing) return writing;
    if (usedQueue.length === 0) return Promise.resolve();
    writing = (async () => {
      // Starts once the event loop turns: the call's result reaches the caller first.
      await new Promise((resolve) => setImmediate(resolve));
      try {
        while (usedQueue.length > 0) {
          const batch = usedQueue;
          usedQueue = [];
          await revokeUsed(batch);
        }
      } finally {
        writing = null;
      }
    })();
    return writing;
  }

  async function mint(
    audit: AuditAppend,
    callId: string,
    connection: ServerConnection,
    request: Parameters<CredentialIssuer['mint']>[0],
  ): Promise<IssuedCredential> {
    const credential = options.issuer.mint(request);
    await audit('credential-mint', {
      callId,
      serverName: connection.name,
      ...describeCredential(credential),
    });
    return credential;
  }

  return {
    async forCall(context, connection, toolName, args) {
      const kind = connection.bundledKind;
      if (!kind) return null;
      const meta = (credential: IssuedCredential) => ({
        [credentialMetaKey]: credential.token,
        [runMetaKey]: context.runId,
      });
      const scope = options.standingTools(connection.name);
      if (!scope.includes(toolName)) {
        const oneCall = await mint(context.audit, context.callId, connection, {
          runId: context.runId,
          server: kind,
          tools: [toolName],
          argsHash: hashArgs(args),
          ttlSeconds: Math.min(ONE_CALL_TTL_SECONDS, options.ttlSeconds),
        });
        return { meta: meta(oneCall), oneCall };
      }
      let byServer = standing.get(context.runId);
      if (!byServer) {
        byServer = new Map();
        standing.set(context.runId, byServer);
      }
      let credential = byServer.get(connection.name);
      if (!credential || credential.expiresAt - options.now().getTime() < RENEW_MARGIN_MS) {
        const previous = credential;
        credential = await mint(context.audit, context.callId, connection, {
          runId: context.runId,
          server: kind,
          tools: scope,
          ttlSeconds: options.ttlSeconds,
        });
        byServer.set(connection.name, credential);
        if (previous && previous.expiresAt > options.now().getTime()) {
          await options.issuer.revoke([previous], 'renewed');
          await context.audit('credential-revoke', { credentialIds: [previous.id], reason: 'renewed' });
        }
      }
      return { meta: meta(credential), oneCall: null };
    },
    afterCall(credential, audit) {
      if (!credential?.oneCall) return;
      usedQueue.push({ credential: credential.oneCall, audit });
      void drainUsed();
    },
    settled: () => writing ?? Promise.resolve(),
    async endRun(runId, reason, audit) {
      await drainUsed();
      const byServer = standing.get(runId);
      standing.delete(runId);
      const live = [...(byServer?.values() ?? [])].filter(
        (credential) => credential.expiresAt > options.now().getTime(),
      );
      if (live.length === 0) return;
      const credentialIds = live.map((credential) => credential.id);
      try {
        await options.issuer.revoke(live, reason);
      } catch (error) {
        // Recorded, not thrown: the run still ends; the credentials die at their expiry.
        await audit('credential-revoke', { credentialIds, reason, error: describeError(error) });
        return;
      }
      await audit('credential-revoke', { credentialIds, reason });
    },
  };
}

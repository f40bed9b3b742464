import {
  type CredentialIssuer,
  describeCredential,
  hashArgs,
  type IssuedCredential,
} from '../../control/index.js';
import { credentialMetaKey, runMetaKey, type UseLedger } from '../../credential/index.js';
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
   * refuses it ever after (credential/single-use.ts); the gateway records the use too once the call is over.
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
   * After the call, a one-call credential is retired: its use recorded in the home's use ledger, which
   * every server checks (the server that ran it recorded it already), or, should that fail, revoked
   * through the revocation list. Audited through `record` (the call's queued audit).
   */
  afterCall(credential: CallCredential | null, record: AuditAppend): Promise<void>;
  /** Revokes every credential this gateway minted for the run: at run end and at every pause. */
  endRun(runId: string, reason: string, audit: AuditAppend): Promise<void>;
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
  /** The home's record of one-call credential uses (credential/single-use.ts). */
  uses: UseLedger;
  now: () => Date;
}): GatewayCredentials {
  const standing = new Map<string, Map<string, IssuedCredential>>();

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
    async afterCall(credential, record) {
      const used = credential?.oneCall;
      if (!used) return;
      let via = 'use-ledger';
      let failed: string | null = null;
      try {
        // A file create, no lock: the credential is dead for every server of the home from here on.
        options.uses.claim(used, options.now());
      } catch (ledgerError) {
        logger.warn({ err: ledgerError, credential: used.id }, 'one-call credential use not recorded');
        via = 'revocation-list';
        try {
          await options.issuer.revoke([used], 'one-call credential used');
        } catch (error) {
          // The call has happened; the credential still dies within its one-minute life.
          failed = `${describeError(ledgerError)}; ${describeError(error)}`;
        }
      }
      await record('credential-revoke', {
        credentialIds: [used.id],
        reason: 'used',
        via,
        ...(failed === null ? {} : { error: failed }),
      });
    },
    async endRun(runId, reason, audit) {
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

import { canonicalJson, sha256Hex } from '../store/index.js';
import { publicKeyReader } from './keys.js';
import { openRevocationList, type RevocationList } from './revocation.js';
import { openUseLedger, type UseLedger } from './single-use.js';
import { type CredentialClaims, readCredential } from './token.js';

export type CredentialCheck =
  | { type: 'valid'; claims: CredentialClaims }
  | { type: 'refused'; reason: string; tokenId: string | null };

export interface CredentialVerifier {
  /**
   * Every check a server makes before running a tool: signature, expiry, server, tool, run,
   * arguments, revocation; a one-call token (bound to arguments) passes once only, on any server.
   */
  verify(request: {
    token: string | null;
    tool: string;
    args: Record<string, unknown>;
    /** The run the caller says it acts for, if it says. */
    runId: string | null;
  }): CredentialCheck;
}

/**
 * The server side of scoped credentials: verifies with the home's public key only and reads
 * the revocation list on every call. A one-call token that passes every check is claimed in the
 * home's use ledger (single-use.ts) before the call runs: its use is then recorded for every process,
 * and any later presentation is refused. Fails closed: an exception while checking is a refusal.
 */
export function createCredentialVerifier(options: {
  home: string;
  /** The bundled server kind this process serves. */
  server: string;
  env?: Record<string, string | undefined>;
  now?: () => Date;
  revocations?: RevocationList;
  uses?: UseLedger;
}): CredentialVerifier {
  const publicKey = publicKeyReader(options.home, options.env);
  const revocations = options.revocations ?? openRevocationList(options.home);
  const uses = options.uses ?? openUseLedger(options.home);
  const now = options.now ?? (() => new Date());

  function verifyUnsafe(request: Parameters<CredentialVerifier['verify']>[0]): CredentialCheck {
    const refuse = (reason: string, tokenId: string | null = null): CredentialCheck => ({
      type: 'refused',
      reason,
      tokenId,
    });
    if (!request.token)
      return refuse(
        `no Warden credential: ${options.server} tools run only with a scoped credential minted by the Warden control layer`,
      );
    const key = publicKey();
    if (!key)
      return refuse('this server has no credential public key yet; run `warden credentials mint` once');
    const reading = readCredential(request.token, key);
    if (reading.type === 'invalid') return refuse(reading.reason);
    const { claims } = reading;
    const refuseThis = (reason: string) => refuse(`credential ${claims.id}: ${reason}`, claims.id);
    const checkedAt = now();
    const at = checkedAt.getTime();
    if (claims.expiresAt <= at) return refuseThis(`expired at ${new Date(claims.expiresAt).toISOString()}`);
    if (claims.issuedAt > at + 60_000) return refuseThis('issued in the future');
    if (claims.server !== options.server)
      return refuseThis(`issued for server ${claims.server}, not ${options.server}`);
    if (!claims.tools.includes(request.tool) && !claims.tools.includes('*'))
      return refuseThis(`does not cover ${options.server}.${request.tool}`);
    if (request.runId !== null && request.runId !== claims.runId)
      return refuseThis(`issued for run ${claims.runId}, not ${request.runId}`);
    if (claims.argsHash !== undefined && claims.argsHash !== sha256Hex(canonicalJson(request.args)))
      return refuseThis('issued for one call with other arguments');
    const revoked = revocations.revocationOf(claims, request.tool);
    if (revoked) return refuseThis(`revoked at ${revoked.at} (${revoked.reason})`);
    if (claims.argsHash !== undefined) {
      const use = uses.claim(claims, checkedAt);
      if (use.type === 'used') return refuseThis(`a one-call credential, ${use.detail()}`);
    }
    return { type: 'valid', claims };
  }

  return {
    verify(request) {
      try {
        return verifyUnsafe(request);
      } catch (error) {
        return {
          type: 'refused',
          reason: `credential check failed (${error instanceof Error ? error.message : String(error)}): refused`,
          tokenId: null,
        };
      }
    },
  };
}

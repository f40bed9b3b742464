import { createHash, type KeyObject, sign, verify } from 'node:crypto';
import { z } from 'zod';

/**
 * A scoped credential: a short-lived Ed25519-signed token naming one run, one server kind and
 * the tools it may call there (optionally one call's argument hash). Compact, like a JWS:
 * `wdc1.<base64url(JSON claims)>.<base64url(signature over "wdc1.<claims>")>`.
 */
export const credentialPrefix = 'wdc1';

/** Where a caller puts the token in a `tools/call` request: `params._meta["dev.warden/credential"]`. */
export const credentialMetaKey = 'dev.warden/credential';
/** The run the caller says it acts for; must match the token's run. */
export const runMetaKey = 'dev.warden/run';

export const credentialClaimsSchema = z.strictObject({
  /** Token id: what audit events and revocations name; the token itself is never recorded. */
  id: z.string().min(1).max(64),
  runId: z.string().min(1).max(200),
  /** The bundled server kind the token is for (siem, edr, intel, ticket, iam). */
  server: z.string().min(1).max(64),
  /** Bare tool names on that server, or ["*"] for every tool (operator tokens only). */
  tools: z.array(z.string().min(1).max(64)).min(1).max(200),
  /** SHA-256 of the canonical arguments, when the token authorises exactly one call. */
  argsHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  issuedAt: z.number().int().nonnegative(),
  expiresAt: z.number().int().nonnegative(),
  /** Who minted it: the gateway, or an operator through `warden credentials mint`. */
  issuer: z.string().min(1).max(200),
});

export type CredentialClaims = z.infer<typeof credentialClaimsSchema>;

export type TokenReading = { type: 'valid'; claims: CredentialClaims } | { type: 'invalid'; reason: string };

function base64url(bytes: Buffer | string): string {
  return Buffer.from(bytes).toString('base64url');
}

/** Signs claims into a token string. */
export function signCredential(claims: CredentialClaims, privateKey: KeyObject): string {
  const body = `${credentialPrefix}.${base64url(JSON.stringify(claims))}`;
  const signature = sign(null, Buffer.from(body, 'utf8'), privateKey);
  return `${body}.${base64url(signature)}`;
}

/** A short, non-reversible fingerprint of a token for logs and audit events. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 16);
}

/** Checks the format and the signature; says nothing yet about expiry, scope or revocation. */
export function readCredential(token: string, publicKey: KeyObject): TokenReading {
  if (token.length > 8192) return { type: 'invalid', reason: 'the credential is too long to be one of ours' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== credentialPrefix)
    return { type: 'invalid', reason: `the credential is not a Warden ${credentialPrefix} token` };
  const [prefix, claimsPart, signaturePart] = parts as [string, string, string];
  let signatureOk = false;
  try {
    signatureOk = verify(
      null,
      Buffer.from(`${prefix}.${claimsPart}`, 'utf8'),
      publicKey,
      Buffer.from(signaturePart, 'base64url'),
    );
  } catch {
    signatureOk = false;
  }
  if (!signatureOk)
    return { type: 'invalid', reason: 'the credential signature does not verify with this home’s key' };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(claimsPart, 'base64url').toString('utf8'));
  } catch {
    return { type: 'invalid', reason: 'the credential claims are not JSON' };
  }
  const parsed = credentialClaimsSchema.safeParse(json);
  if (!parsed.success) return { type: 'invalid', reason: 'the credential claims have the wrong shape' };
  return { type: 'valid', claims: parsed.data };
}

/** Scoped credentials: token format, keys, revocation and verification, shared by the control layer (mints) and the bundled servers (verify). */
export type { CredentialSigningKey } from './keys.js';
export {
  credentialKeyPath,
  credentialPublicKeyPath,
  loadCredentialSigningKey,
  publicKeyReader,
} from './keys.js';
export type { Revocation, RevocationList, RevocationMatch } from './revocation.js';
export { maxCredentialTtlSeconds, openRevocationList, revocationListPath } from './revocation.js';
export type { UseClaim, UseLedger } from './single-use.js';
export { credentialUsesPath, openUseLedger } from './single-use.js';
export type { CredentialClaims, TokenReading } from './token.js';
export {
  credentialClaimsSchema,
  credentialMetaKey,
  credentialPrefix,
  readCredential,
  runMetaKey,
  signCredential,
  tokenFingerprint,
} from './token.js';
export type { CredentialCheck, CredentialVerifier } from './verify.js';
export { createCredentialVerifier } from './verify.js';

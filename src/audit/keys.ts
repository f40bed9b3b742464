import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { loadOrCreateEd25519Key } from '../keys.js';

/** The Ed25519 key that signs audit checkpoints. The private half never leaves Warden's home. */
export interface SigningKey {
  keyId: string;
  privateKey: KeyObject | null;
  publicKey: KeyObject;
}

export function signingKeyPath(home: string): string {
  return join(home, 'keys', 'audit-ed25519.pem');
}

/**
 * Loads the operator's key (`WARDEN_AUDIT_KEY` names a PEM file) or the one under `<home>/keys`,
 * generating it on first use with owner-only permissions.
 */
export function loadSigningKey(
  home: string,
  env: Record<string, string | undefined> = process.env,
): SigningKey {
  return loadOrCreateEd25519Key({
    path: signingKeyPath(home),
    supplied: env.WARDEN_AUDIT_KEY,
    name: 'audit signing key',
    usedFor: 'audit checkpoints',
    envName: 'WARDEN_AUDIT_KEY',
  });
}

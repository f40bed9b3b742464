import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadOrCreateEd25519Key } from '../keys.js';

/**
 * The credential key pair, separate from the audit key: the private half (owner-only, under
 * `<home>/keys`) stays with the control layer that mints; servers read only the public half.
 */
export function credentialKeyPath(home: string): string {
  return join(home, 'keys', 'credential-ed25519.pem');
}

export function credentialPublicKeyPath(home: string): string {
  return join(home, 'keys', 'credential-ed25519.pub.pem');
}

export interface CredentialSigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function writePublicKey(path: string, publicKey: KeyObject): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, publicKey.export({ type: 'spki', format: 'pem' }).toString(), { mode: 0o644 });
}

/**
 * Loads the signing key (`WARDEN_CREDENTIAL_KEY` names a PEM file, else `<home>/keys`),
 * generating it with owner-only permissions on first use, and keeps the public half beside it.
 */
export function loadCredentialSigningKey(
  home: string,
  env: Record<string, string | undefined> = process.env,
): CredentialSigningKey {
  const { keyId, privateKey, publicKey } = loadOrCreateEd25519Key({
    path: credentialKeyPath(home),
    supplied: env.WARDEN_CREDENTIAL_KEY,
    name: 'credential signing key',
    usedFor: 'credentials',
    envName: 'WARDEN_CREDENTIAL_KEY',
  });
  // Servers this home spawns find the public half here, whichever private key signs.
  const publicPath = credentialPublicKeyPath(home);
  let current: string | null = null;
  try {
    current = readFileSync(publicPath, 'utf8');
  } catch {
    current = null;
  }
  if (current !== publicKey.export({ type: 'spki', format: 'pem' }).toString())
    writePublicKey(publicPath, publicKey);
  return { keyId, privateKey, publicKey };
}

/**
 * Reads the public key a server verifies with (`WARDEN_CREDENTIAL_PUBLIC_KEY` names a PEM
 * file, else `<home>/keys/credential-ed25519.pub.pem`), re-reading it only when the file
 * changes. Returns null when there is none yet: every call is then refused.
 */
export function publicKeyReader(
  home: string,
  env: Record<string, string | undefined> = process.env,
): () => KeyObject | null {
  const path = env.WARDEN_CREDENTIAL_PUBLIC_KEY ?? credentialPublicKeyPath(home);
  let cached: { mtimeMs: number; key: KeyObject } | null = null;
  return () => {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(path).mtimeMs;
    } catch {
      return null;
    }
    if (cached?.mtimeMs !== mtimeMs) {
      const key = createPublicKey(readFileSync(path, 'utf8'));
      if (key.asymmetricKeyType !== 'ed25519') return null;
      cached = { mtimeMs, key };
    }
    return cached.key;
  };
}

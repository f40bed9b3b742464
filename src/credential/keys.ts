import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.js';

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

function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
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
  const supplied = env.WARDEN_CREDENTIAL_KEY;
  const path = supplied ?? credentialKeyPath(home);
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || supplied) {
      throw new ConfigError(
        `cannot read the credential signing key ${path}: ${(error as Error).message}; check WARDEN_CREDENTIAL_KEY`,
        { cause: error },
      );
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
    } catch (raced) {
      // Another process generated it first: use theirs.
      if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
      pem = readFileSync(path, 'utf8');
    }
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new ConfigError(
      `${path} is not a PEM private key; supply an Ed25519 key (openssl genpkey -algorithm ed25519)`,
      { cause: error },
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new ConfigError(`${path} is a ${privateKey.asymmetricKeyType} key; credentials need Ed25519`);
  const publicKey = createPublicKey(privateKey);
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
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
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

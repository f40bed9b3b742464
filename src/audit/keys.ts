import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.js';

/** The Ed25519 key that signs audit checkpoints. The private half never leaves Warden's home. */
export interface SigningKey {
  keyId: string;
  privateKey: KeyObject | null;
  publicKey: KeyObject;
}

export function signingKeyPath(home: string): string {
  return join(home, 'keys', 'audit-ed25519.pem');
}

function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/**
 * Loads the operator's key (`WARDEN_AUDIT_KEY` names a PEM file) or the one under `<home>/keys`,
 * generating it on first use with owner-only permissions.
 */
export function loadSigningKey(
  home: string,
  env: Record<string, string | undefined> = process.env,
): SigningKey {
  const supplied = env.WARDEN_AUDIT_KEY;
  const path = supplied ?? signingKeyPath(home);
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || supplied) {
      throw new ConfigError(
        `cannot read the audit signing key ${path}: ${(error as Error).message}; check WARDEN_AUDIT_KEY`,
        { cause: error },
      );
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
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
    throw new ConfigError(`${path} is a ${privateKey.asymmetricKeyType} key; audit checkpoints need Ed25519`);
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from './errors.js';

export interface Ed25519KeyPair {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A short, stable id of a public key: the first 16 hex digits of SHA-256 over its DER. */
export function ed25519KeyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/**
 * Loads an Ed25519 private key from `supplied` (an operator's PEM file, named by `envName`) or
 * `path`, generating it at `path` on first use with owner-only permissions. When two processes
 * generate at once, the second uses the first one's key.
 */
export function loadOrCreateEd25519Key(options: {
  path: string;
  supplied: string | undefined;
  /** What the key is, for errors: "audit signing key". */
  name: string;
  /** What needs Ed25519, for errors: "audit checkpoints". */
  usedFor: string;
  envName: string;
}): Ed25519KeyPair {
  const { supplied } = options;
  const path = supplied ?? options.path;
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || supplied) {
      throw new ConfigError(
        `cannot read the ${options.name} ${path}: ${(error as Error).message}; check ${options.envName}`,
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
    throw new ConfigError(
      `${path} is a ${privateKey.asymmetricKeyType} key; ${options.usedFor} need Ed25519`,
    );
  const publicKey = createPublicKey(privateKey);
  return { keyId: ed25519KeyId(publicKey), privateKey, publicKey };
}

import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Keys for personal data at rest: AES-256-GCM keys by id (the first encrypts) and the lookup-hash key. */
export interface DataKeys {
  encryptionKeys: Array<{ id: string; key: Buffer }>;
  hashKey: Buffer;
}

export interface DataProtection {
  /** Seals a JSON value: `v1.<key id>.<iv>.<ciphertext>.<tag>`, authenticated, base64url parts. */
  seal(value: unknown): string;
  /** Opens a sealed value with whichever configured key sealed it; throws on tampering. */
  open<T>(sealed: string): T;
  /** A keyed hash of a mobile number (E.164), so it can be looked up without being stored in clear. */
  lookupHash(mobileNumber: string): string;
}

export function createDataProtection(keys: DataKeys): DataProtection {
  const [current] = keys.encryptionKeys;
  const byId = new Map(keys.encryptionKeys.map((entry) => [entry.id, entry.key]));
  return {
    seal(value) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(Buffer.from(current.id));
      const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      return ['v1', current.id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    open<T>(sealed: string): T {
      const [version, keyId, iv, ciphertext, tag] = sealed.split('.');
      const key = byId.get(keyId);
      if (version !== 'v1' || !key || !iv || !tag) throw new Error(`Cannot open data sealed with key "${keyId}": unknown key or format`);
      // A fixed tag length: otherwise a tag cut down to 4 bytes would be accepted.
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
      decipher.setAAD(Buffer.from(keyId));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
      return JSON.parse(plaintext.toString('utf8')) as T;
    },
    lookupHash(mobileNumber) {
      return createHmac('sha256', keys.hashKey).update(mobileNumber).digest('base64url');
    },
  };
}

/** Parses `id:base64key[,id:base64key…]`; returns problems instead of throwing, for the config module. */
export function parseEncryptionKeys(value: string): { keys?: DataKeys['encryptionKeys']; problem?: string } {
  const keys: DataKeys['encryptionKeys'] = [];
  for (const entry of value.split(',').map((part) => part.trim()).filter(Boolean)) {
    const [id, encoded] = entry.split(':');
    const key = encoded ? Buffer.from(encoded, 'base64') : Buffer.alloc(0);
    if (!id || !/^[\w-]{1,32}$/.test(id) || key.length !== 32) {
      return { problem: 'must be key-id:base64-of-32-random-bytes, comma separated, the current key first (e.g. k1:$(openssl rand -base64 32))' };
    }
    // Two keys under one id: data sealed with the first could not be opened (open() finds the last).
    if (keys.some((known) => known.id === id)) return { problem: `names the key id "${id}" twice; every key needs its own id` };
    keys.push({ id, key });
  }
  return keys.length ? { keys } : { problem: 'names no key' };
}

/**
 * The embedded mode's keys: generated into the data folder on first start (with a warning),
 * read from there afterwards. A server deployment passes them in the environment instead.
 */
export function embeddedDataKeys(dataDir: string, warn: (message: string) => void = console.warn): DataKeys {
  const file = path.join(dataDir, 'data-keys.json');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    const generated = { encryptionKeys: [{ id: `k${Date.now().toString(36)}`, key: randomBytes(32).toString('base64') }], hashKey: randomBytes(32).toString('base64') };
    fs.writeFileSync(file, JSON.stringify(generated, null, 2), { mode: 0o600, flag: 'wx' });
    warn(
      `Generated the keys for personal data at rest in ${file}. Keep a copy: without it the data cannot be read. ` +
        'In production set DATA_ENCRYPTION_KEYS and DATA_HASH_KEY instead.',
    );
  }
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { encryptionKeys: Array<{ id: string; key: string }>; hashKey: string };
  return {
    encryptionKeys: stored.encryptionKeys.map((entry) => ({ id: entry.id, key: Buffer.from(entry.key, 'base64') })),
    hashKey: Buffer.from(stored.hashKey, 'base64'),
  };
}

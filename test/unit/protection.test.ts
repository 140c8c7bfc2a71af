// Personal data at rest (src/crypto/data-protection.ts) and the evidence digest
// (src/crypto/evidence-signing.ts): sealing, tamper detection, key rotation, the lookup hash,
// the key configuration, and the canonical JSON the digest is taken of.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDataProtection, embeddedDataKeys, parseEncryptionKeys, type DataKeys } from '../../src/crypto/data-protection.js';
import { canonicalJson, personalDataDigest } from '../../src/crypto/evidence-signing.js';
import { ConfigError, loadConfig } from '../../src/config.js';

const key = () => randomBytes(32);
const HASH_KEY = key();
const K1 = { id: 'k1', key: key() };
const K2 = { id: 'k2', key: key() };
const protection = (encryptionKeys: DataKeys['encryptionKeys'], hashKey: Buffer = HASH_KEY) => createDataProtection({ encryptionKeys, hashKey });

const PERSON = { mobileNumber: '+41791234567', subject: { givenNames: 'Anna Maria', surname: 'Müller-Lüdenscheidt', dateOfBirth: '1990-01-01' } };

/** Replaces the character at `index` by another base64url character. */
function flipAt(value: string, index: number): string {
  const replacement = value[index] === 'A' ? 'B' : 'A';
  return value.slice(0, index) + replacement + value.slice(index + 1);
}

describe('seal and open', () => {
  it('round-trips JSON values of every kind', () => {
    const dp = protection([K1]);
    for (const value of [PERSON, 'a string', '', 0, 42.5, true, null, [1, 'two', { three: 3 }], { nested: { deeper: ['ü', '€', '😀'] } }]) {
      expect(dp.open(dp.seal(value))).toStrictEqual(value);
    }
  });

  it('is v1.<key id>.<iv>.<ciphertext>.<tag>, base64url, and shows nothing of the value', () => {
    const dp = protection([K1]);
    const sealed = dp.seal(PERSON);
    const parts = sealed.split('.');
    expect(parts).toHaveLength(5);
    expect(parts[0]).toBe('v1');
    expect(parts[1]).toBe('k1');
    for (const part of parts.slice(2)) expect(part).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(parts[2], 'base64url')).toHaveLength(12);
    expect(Buffer.from(parts[4], 'base64url')).toHaveLength(16);
    for (const clear of ['Anna', 'Maria', 'Müller', 'Lüdenscheidt', '791234567', '1990-01-01', 'mobileNumber', 'surname']) {
      expect(sealed).not.toContain(clear);
      expect(Buffer.from(parts[3], 'base64url').includes(Buffer.from(clear))).toBe(false);
    }
  });

  it('seals the same value differently each time (a fresh IV), both open', () => {
    const dp = protection([K1]);
    const first = dp.seal(PERSON);
    const second = dp.seal(PERSON);
    expect(first).not.toBe(second);
    expect(first.split('.')[2]).not.toBe(second.split('.')[2]);
    expect(dp.open(first)).toStrictEqual(dp.open(second));
  });

  it('another instance with the same keys opens it (nothing is kept in memory)', () => {
    const sealed = protection([K1]).seal(PERSON);
    expect(protection([{ id: 'k1', key: Buffer.from(K1.key) }]).open(sealed)).toStrictEqual(PERSON);
  });
});

describe('tamper detection', () => {
  const dp = protection([K1, K2]);
  const sealed = dp.seal(PERSON);
  const [, , iv, ciphertext, tag] = sealed.split('.');
  const offsets = { iv: sealed.indexOf(iv), ciphertext: sealed.indexOf(ciphertext), tag: sealed.lastIndexOf(tag) };

  it.each([
    ['the IV, first character', offsets.iv],
    ['the IV, middle', offsets.iv + Math.floor(iv.length / 2)],
    ['the ciphertext, first character', offsets.ciphertext],
    ['the ciphertext, middle', offsets.ciphertext + Math.floor(ciphertext.length / 2)],
    ['the ciphertext, last full byte', offsets.ciphertext + ciphertext.length - 3],
    ['the tag, first character', offsets.tag],
    ['the tag, middle', offsets.tag + Math.floor(tag.length / 2)],
  ])('a flipped character in %s: open throws', (_where, index) => {
    const tampered = flipAt(sealed, index);
    expect(tampered).not.toBe(sealed);
    // The flip changes the bytes (not only base64 padding bits), so it must be noticed.
    expect(tampered.split('.').map((part) => Buffer.from(part, 'base64url').toString('hex'))).not.toEqual(
      sealed.split('.').map((part) => Buffer.from(part, 'base64url').toString('hex')),
    );
    expect(() => dp.open(tampered)).toThrow();
  });

  it('every single-character change that alters the bytes is noticed', () => {
    const decoded = (value: string) => value.split('.').map((part) => Buffer.from(part, 'base64url').toString('hex')).join('.');
    let checked = 0;
    for (let index = 0; index < sealed.length; index++) {
      if (sealed[index] === '.') continue;
      const tampered = flipAt(sealed, index);
      if (decoded(tampered) === decoded(sealed)) continue;
      checked++;
      expect(() => dp.open(tampered), `position ${index}`).toThrow();
    }
    expect(checked).toBeGreaterThan(sealed.length / 2);
  });

  it('a ciphertext moved under another configured key id is refused (the key id is authenticated)', () => {
    const moved = sealed.replace(/^v1\.k1\./, 'v1.k2.');
    expect(moved).not.toBe(sealed);
    expect(() => dp.open(moved)).toThrow();
  });

  it('a truncated authentication tag is refused', () => {
    const parts = sealed.split('.');
    for (const bytes of [4, 8, 12, 15]) {
      const shortTag = Buffer.from(parts[4], 'base64url').subarray(0, bytes).toString('base64url');
      expect(() => dp.open([...parts.slice(0, 4), shortTag].join('.')), `${bytes}-byte tag`).toThrow();
    }
  });

  it('refuses what is not a sealed value: unknown key, other version, missing parts, garbage', () => {
    expect(() => dp.open(sealed.replace(/^v1\.k1\./, 'v1.k9.'))).toThrow(/k9/);
    expect(() => dp.open(sealed.replace(/^v1\./, 'v2.'))).toThrow();
    expect(() => dp.open(sealed.split('.').slice(0, 4).join('.'))).toThrow();
    expect(() => dp.open('')).toThrow();
    expect(() => dp.open('"Anna"')).toThrow();
    expect(() => dp.open('v1.k1...')).toThrow();
  });

  it('data sealed under another key with the same id is refused', () => {
    const other = protection([{ id: 'k1', key: key() }]);
    expect(() => other.open(sealed)).toThrow();
  });
});

describe('key rotation', () => {
  it('data sealed with the old key still opens once a new key is put first; new data uses the new key', () => {
    const before = protection([K1]);
    const old = before.seal(PERSON);
    const after = protection([K2, K1]);
    expect(after.open(old)).toStrictEqual(PERSON);
    const fresh = after.seal(PERSON);
    expect(fresh.split('.')[1]).toBe('k2');
    expect(after.open(fresh)).toStrictEqual(PERSON);
    // A service that only knows the old key cannot read the new data.
    expect(() => before.open(fresh)).toThrow(/k2/);
  });

  it('once the old key is removed, its data can no longer be opened', () => {
    const old = protection([K1]).seal(PERSON);
    expect(() => protection([K2]).open(old)).toThrow(/k1/);
  });

  it('the lookup hash does not depend on the encryption keys', () => {
    expect(protection([K1]).lookupHash('+41791234567')).toBe(protection([K2, K1]).lookupHash('+41791234567'));
  });
});

describe('lookupHash', () => {
  it('is stable across calls and instances with the same hash key', () => {
    const hash = protection([K1]).lookupHash('+41791234567');
    expect(protection([K1]).lookupHash('+41791234567')).toBe(hash);
    expect(protection([K2], Buffer.from(HASH_KEY)).lookupHash('+41791234567')).toBe(hash);
  });

  it('is an HMAC-SHA256, base64url, that shows nothing of the number', () => {
    const hash = protection([K1]).lookupHash('+41791234567');
    expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hash).not.toContain('791234567');
  });

  it('differs for another number and for another hash key', () => {
    const dp = protection([K1]);
    expect(dp.lookupHash('+41791234568')).not.toBe(dp.lookupHash('+41791234567'));
    expect(protection([K1], key()).lookupHash('+41791234567')).not.toBe(dp.lookupHash('+41791234567'));
    // Without a key a plain hash would be guessable from the small space of mobile numbers.
    expect(dp.lookupHash('+41791234567')).not.toBe(createHash('sha256').update('+41791234567').digest('base64url'));
  });
});

describe('parseEncryptionKeys', () => {
  const b64 = (bytes: Buffer) => bytes.toString('base64');

  it('reads id:base64 pairs, comma separated, in order, the first one current', () => {
    const first = key();
    const second = key();
    const parsed = parseEncryptionKeys(` new:${b64(first)} , old-1:${b64(second)},`);
    expect(parsed.problem).toBeUndefined();
    expect(parsed.keys).toStrictEqual([
      { id: 'new', key: first },
      { id: 'old-1', key: second },
    ]);
  });

  it.each([
    ['an empty value', ''],
    ['only commas and spaces', ' , ,'],
  ])('refuses %s: it names no key', (_what, value) => {
    expect(parseEncryptionKeys(value)).toStrictEqual({ problem: 'names no key' });
  });

  it.each([
    ['a key without id', () => `:${b64(key())}`],
    ['an id without key', () => 'k1'],
    ['an id with an empty key', () => 'k1:'],
    ['a 16-byte key', () => `k1:${b64(randomBytes(16))}`],
    ['a 33-byte key', () => `k1:${b64(randomBytes(33))}`],
    ['an id with a space', () => `k 1:${b64(key())}`],
    ['an id with a dot (the sealed format’s separator)', () => `k.1:${b64(key())}`],
    ['an id longer than 32 characters', () => `${'k'.repeat(33)}:${b64(key())}`],
    ['a good key followed by a bad one', () => `k1:${b64(key())},k2:${b64(randomBytes(8))}`],
  ])('refuses %s, saying what the value must look like', (_what, value) => {
    const parsed = parseEncryptionKeys(value());
    expect(parsed.keys).toBeUndefined();
    expect(parsed.problem).toMatch(/key-id:base64-of-32-random-bytes/);
  });
});

describe('parseEncryptionKeys: one id, one key', () => {
  it('refuses the same id twice, naming it', () => {
    const parsed = parseEncryptionKeys(`k1:${key().toString('base64')},k2:${key().toString('base64')},k1:${key().toString('base64')}`);
    expect(parsed.keys).toBeUndefined();
    expect(parsed.problem).toMatch(/"k1" twice/);
  });

  it('the configuration refuses it, naming DATA_ENCRYPTION_KEYS', () => {
    const env = { DATA_ENCRYPTION_KEYS: `k1:${key().toString('base64')},k1:${key().toString('base64')}`, DATA_HASH_KEY: key().toString('base64') };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/DATA_ENCRYPTION_KEYS: names the key id "k1" twice/);
    expect(loadConfig({ ...env, DATA_ENCRYPTION_KEYS: `k1:${key().toString('base64')},k2:${key().toString('base64')}` }).dataKeys?.encryptionKeys.map((entry) => entry.id)).toEqual(['k1', 'k2']);
  });
});

describe('embeddedDataKeys', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('generates the keys into the data folder once, with a warning, owner-only, and reads them back', () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'srs-keys-')), 'nested');
    dirs.push(path.dirname(dir));
    const warnings: string[] = [];
    const first = embeddedDataKeys(dir, (message) => warnings.push(message));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(path.join(dir, 'data-keys.json'));
    expect(fs.statSync(path.join(dir, 'data-keys.json')).mode & 0o777).toBe(0o600);
    expect(first.encryptionKeys).toHaveLength(1);
    expect(first.encryptionKeys[0].key).toHaveLength(32);
    expect(first.hashKey).toHaveLength(32);

    const second = embeddedDataKeys(dir, (message) => warnings.push(message));
    expect(warnings).toHaveLength(1);
    expect(second).toStrictEqual(first);
    const sealed = createDataProtection(first).seal(PERSON);
    expect(createDataProtection(second).open(sealed)).toStrictEqual(PERSON);
    expect(createDataProtection(second).lookupHash('+41791234567')).toBe(createDataProtection(first).lookupHash('+41791234567'));
  });
});

describe('canonicalJson and personalDataDigest', () => {
  it('sorts keys at every level, keeps array order, drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' }, e: undefined })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson([{ b: 2, a: 1 }, 'x', null])).toBe('[{"a":1,"b":2},"x",null]');
    expect(canonicalJson('ü"\n')).toBe(JSON.stringify('ü"\n'));
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson({})).toBe('{}');
  });

  it('does not depend on the order of keys', () => {
    const one = {
      mobileNumber: '+41791234567',
      subject: { givenNames: 'Anna', surname: 'Muster', dateOfBirth: '1990-01-01', nationality: 'CH' },
      document: { type: 'PASSPORT', number: 'X1', validUntil: '2030-01-01' },
    };
    const other = {
      document: { validUntil: '2030-01-01', number: 'X1', type: 'PASSPORT' },
      subject: { nationality: 'CH', dateOfBirth: '1990-01-01', surname: 'Muster', givenNames: 'Anna' },
      mobileNumber: '+41791234567',
    };
    expect(canonicalJson(other)).toBe(canonicalJson(one));
    expect(personalDataDigest(other)).toBe(personalDataDigest(one));
    // An absent and an undefined attribute are the same data.
    expect(personalDataDigest({ ...one, subject: { ...one.subject, placeOfBirth: undefined } })).toBe(personalDataDigest(one));
  });

  it('is the base64url SHA-256 of the canonical JSON, and changes with any value', () => {
    const data = { mobileNumber: '+41791234567', subject: { surname: 'Muster', givenNames: 'Anna' } };
    const expected = createHash('sha256').update('{"mobileNumber":"+41791234567","subject":{"givenNames":"Anna","surname":"Muster"}}').digest('base64url');
    expect(personalDataDigest(data)).toBe(expected);
    expect(personalDataDigest(data)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(personalDataDigest({ ...data, mobileNumber: '+41791234568' })).not.toBe(expected);
    expect(personalDataDigest({ ...data, subject: { surname: 'Muster', givenNames: 'Anne' } })).not.toBe(expected);
    // Array order is data: it changes the digest.
    expect(personalDataDigest({ list: [1, 2] })).not.toBe(personalDataDigest({ list: [2, 1] }));
  });
});

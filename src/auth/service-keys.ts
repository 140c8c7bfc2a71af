import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { DataProtection } from '../crypto/data-protection.js';

function newPrivateJwk(): JsonWebKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(12).toString('base64url'), alg: 'ES256', use: 'sig' };
}

/**
 * A key as stored: its public parts in clear (they are published anyway) and the private key
 * sealed with the data keys, as personal data is, so a copy of the database signs nothing.
 */
interface StoredKey extends JsonWebKey {
  sealed?: string;
}

function stored(privateJwk: JsonWebKey, protection: DataProtection | undefined): Prisma.InputJsonObject {
  if (!protection) return privateJwk as Prisma.InputJsonObject;
  const { d: _private, ...publicJwk } = privateJwk;
  return { ...publicJwk, sealed: protection.seal(privateJwk) } as Prisma.InputJsonObject;
}

/** The private JWK of a stored key (sealed, or in clear as stored before keys were sealed). */
export function privateJwkOf(value: unknown, protection: DataProtection | undefined): JsonWebKey {
  const key = value as StoredKey;
  if (!key.sealed) return key;
  if (!protection) throw new Error(`Service key ${key.kid} is sealed: the data keys are needed to use it.`);
  return protection.open<JsonWebKey>(key.sealed);
}

/** The public parts of a stored key, for publishing. */
export function publicJwkOf(value: unknown): JsonWebKey {
  const { d: _private, sealed: _sealed, ...publicJwk } = value as StoredKey;
  return publicJwk;
}

/**
 * The active private keys for a purpose, oldest first, creating one on first use. Every process
 * reads the same keys from the database; if two first starts race, both keys are kept. With the
 * data keys (`protection`), keys are stored sealed, and keys stored in clear before are sealed
 * on the way.
 */
export async function loadServiceKeys(prisma: PrismaClient, purpose: string, protection?: DataProtection): Promise<JsonWebKey[]> {
  const existing = await prisma.serviceKey.findMany({ where: { purpose, retiredAt: null }, orderBy: { createdAt: 'asc' } });
  if (protection) await sealClearKeys(prisma, purpose, protection);
  if (existing.length) return existing.map((key) => privateJwkOf(key.privateJwk, protection));
  const privateJwk = newPrivateJwk();
  await prisma.serviceKey.create({ data: { id: String(privateJwk.kid), purpose, privateJwk: stored(privateJwk, protection) } });
  return [privateJwk];
}

/** Seals the keys of a purpose still stored in clear (retired ones too: they are keys all the same). */
async function sealClearKeys(prisma: PrismaClient, purpose: string, protection: DataProtection): Promise<void> {
  const rows = await prisma.serviceKey.findMany({ where: { purpose } });
  for (const row of rows) {
    const key = row.privateJwk as StoredKey;
    if (key.sealed || !key.d) continue;
    await prisma.serviceKey.update({ where: { id: row.id }, data: { privateJwk: stored(key, protection) } });
  }
}

/**
 * Starts signing with a new key; the earlier ones are retired: they sign nothing more but stay
 * published, so what they signed keeps verifying. Returns the new key id.
 */
export async function rotateServiceKey(prisma: PrismaClient, purpose: string, protection?: DataProtection): Promise<string> {
  const privateJwk = newPrivateJwk();
  await prisma.$transaction([
    prisma.serviceKey.updateMany({ where: { purpose, retiredAt: null }, data: { retiredAt: new Date() } }),
    prisma.serviceKey.create({ data: { id: String(privateJwk.kid), purpose, privateJwk: stored(privateJwk, protection) } }),
  ]);
  return String(privateJwk.kid);
}

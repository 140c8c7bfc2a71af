import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

function newPrivateJwk(): JsonWebKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(12).toString('base64url'), alg: 'ES256', use: 'sig' };
}

/**
 * The active private keys for a purpose, oldest first, creating one on first use. Every process
 * reads the same keys from the database; if two first starts race, both keys are kept.
 */
export async function loadServiceKeys(prisma: PrismaClient, purpose: string): Promise<JsonWebKey[]> {
  const existing = await prisma.serviceKey.findMany({ where: { purpose, retiredAt: null }, orderBy: { createdAt: 'asc' } });
  if (existing.length) return existing.map((key) => key.privateJwk as JsonWebKey);
  const privateJwk = newPrivateJwk();
  await prisma.serviceKey.create({ data: { id: String(privateJwk.kid), purpose, privateJwk: privateJwk as Prisma.InputJsonObject } });
  return [privateJwk];
}

/**
 * Starts signing with a new key; the earlier ones are retired: they sign nothing more but stay
 * published, so what they signed keeps verifying. Returns the new key id.
 */
export async function rotateServiceKey(prisma: PrismaClient, purpose: string): Promise<string> {
  const privateJwk = newPrivateJwk();
  await prisma.$transaction([
    prisma.serviceKey.updateMany({ where: { purpose, retiredAt: null }, data: { retiredAt: new Date() } }),
    prisma.serviceKey.create({ data: { id: String(privateJwk.kid), purpose, privateJwk: privateJwk as Prisma.InputJsonObject } }),
  ]);
  return String(privateJwk.kid);
}

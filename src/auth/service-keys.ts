import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

/**
 * The active private keys for a purpose, creating one on first use. Every process reads the same
 * keys from the database; if two first starts race, both keys are kept and both verify.
 */
export async function loadServiceKeys(prisma: PrismaClient, purpose: string): Promise<JsonWebKey[]> {
  const existing = await prisma.serviceKey.findMany({ where: { purpose, retiredAt: null }, orderBy: { createdAt: 'asc' } });
  if (existing.length) return existing.map((key) => key.privateJwk as JsonWebKey);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomBytes(12).toString('base64url');
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
  await prisma.serviceKey.create({ data: { id: kid, purpose, privateJwk: privateJwk as Prisma.InputJsonObject } });
  return [privateJwk];
}

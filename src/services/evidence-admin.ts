import type { Evidence, PrismaClient } from '../generated/prisma/client.js';

/** Accepts an evidence's raw id or its GraphQL global id. */
export function evidenceIdFrom(value: string): string {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  return decoded.startsWith('Evidence:') ? decoded.slice('Evidence:'.length) : value;
}

/** An operator revokes an evidence: from now on verify and lookup answer REVOKED for it. */
export async function revokeEvidence(prisma: PrismaClient, id: string, reason: string): Promise<Evidence | 'not-found' | 'already-revoked'> {
  const evidence = await prisma.evidence.findUnique({ where: { id: evidenceIdFrom(id) } });
  if (!evidence) return 'not-found';
  if (evidence.status === 'REVOKED') return 'already-revoked';
  return prisma.evidence.update({ where: { id: evidence.id }, data: { status: 'REVOKED', revokedAt: new Date(), revocationReason: reason } });
}

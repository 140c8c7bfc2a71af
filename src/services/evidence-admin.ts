import type { SqlRunner } from '../db/adapter.js';
import { revokeEvidenceRow } from './order-store.js';

/** Accepts an evidence's raw id or its GraphQL global id. */
export function evidenceIdFrom(value: string): string {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  return decoded.startsWith('Evidence:') ? decoded.slice('Evidence:'.length) : value;
}

/** An operator revokes an evidence: from now on verify and lookup answer REVOKED for it. */
export async function revokeEvidence(sql: SqlRunner, id: string, reason: string): Promise<{ id: string; revocationReason: string } | 'not-found' | 'already-revoked'> {
  const evidenceId = evidenceIdFrom(id);
  const outcome = await revokeEvidenceRow(sql, evidenceId, reason, new Date());
  if (!outcome) return 'not-found';
  return outcome === 'revoked' ? { id: evidenceId, revocationReason: reason } : outcome;
}

import { randomUUID } from 'node:crypto';
import type { TermsStatus } from '../generated/prisma/client.js';
import type { SqlRunner } from '../db/adapter.js';
import { epochMs } from '../db/sql-values.js';
import type { Viewer } from '../auth/viewer.js';
import type { DataProtection } from '../crypto/data-protection.js';
import type { Jurisdiction, LevelOfAssurance, SignatureCapability } from '../domain/catalogue.js';
import { normaliseMobileNumber } from '../domain/initial-data.js';
import { effectiveTermsStatus } from '../domain/terms.js';
import { verifyEvidence, type EvidenceFacts, type Verification } from '../domain/verification.js';
import type { EvidenceSubject } from '../domain/evidence.js';
import { failed, ok, userError, type Result } from '../domain/user-errors.js';
import { auditBatcherFor } from './verification-audit.js';
import { perTurnBatches } from '../db/per-turn-batches.js';

export interface VerificationInput {
  mobileNumber: string;
  jurisdiction?: Jurisdiction | null;
  loa?: LevelOfAssurance | null;
  distinguishedName?: { givenNames: string; surname: string; country?: string | null } | null;
}

interface EvidenceRow {
  id: string;
  status: EvidenceFacts['status'];
  identifiedAt: number;
  validUntil: number;
  capabilities: SignatureCapability[];
  personalDataSealed: string;
  termsStatus: TermsStatus | null;
  termsLinkExpiresAt: number | null;
}

// lookup and verify are the hottest calls of the service, so the read goes to the pool directly:
// Prisma 6 plans every query anew in WebAssembly, raw ones included, which cost more than the
// query itself here (see BENCHMARKS.md). Times as epoch milliseconds (db/sql-values.ts). The
// lookups of one event-loop turn share the statement (one round trip and one execution in the
// database for all of them), so it asks for a list of numbers.
const EVIDENCE_OF_NUMBERS = `SELECT e."mobileNumberHash", e.id, e.status::text AS status, ${epochMs('e', 'identifiedAt')}, ${epochMs('e', 'validUntil')}, e.capabilities,
       e."personalDataSealed", t.status::text AS "termsStatus", ${epochMs('t', 'linkExpiresAt', 'termsLinkExpiresAt')}
  FROM "Evidence" e LEFT JOIN "TermsAcceptance" t ON t."evidenceId" = e.id
  WHERE e."mobileNumberHash" = ANY($1::text[])`;

// One reader per database handle: the handle is what one process shares between its requests.
const evidenceReaders = new WeakMap<SqlRunner, (lookupHash: string, request: undefined) => Promise<EvidenceRow[]>>();

/** The evidence of a number (by its lookup hash), read with the other lookups of this turn. */
function evidenceReaderFor(database: SqlRunner) {
  let reader = evidenceReaders.get(database);
  if (!reader) {
    reader = perTurnBatches<undefined, EvidenceRow[]>(async (requests) => {
      const rows = await database.query<EvidenceRow & { mobileNumberHash: string }>(EVIDENCE_OF_NUMBERS, [[...requests.keys()]]);
      return (lookupHash) => rows.filter((row) => row.mobileNumberHash === lookupHash);
    });
    evidenceReaders.set(database, reader);
  }
  return reader;
}

/**
 * lookup (no name) and verify (with a distinguished name): whether the number may sign, from all
 * evidence of that number, and an audit record of the question and the answer (the number only
 * as its keyed hash), committed before the answer.
 */
export async function verifyMobileNumber(
  deps: { database: SqlRunner; dataProtection: DataProtection },
  viewer: Viewer,
  input: VerificationInput,
): Promise<Result<Verification>> {
  const mobileNumber = normaliseMobileNumber(input.mobileNumber.trim());
  if (!mobileNumber) return failed(userError('INVALID_INPUT', 'mobileNumber must be a mobile number in international form, e.g. +41791234567.', ['input', 'mobileNumber']));
  const name = input.distinguishedName;
  if (name && (!name.givenNames.trim() || !name.surname.trim())) {
    return failed(userError('INVALID_INPUT', 'givenNames and surname must not be empty.', ['input', 'distinguishedName']));
  }
  const lookupHash = deps.dataProtection.lookupHash(mobileNumber);
  const rows = await evidenceReaderFor(deps.database)(lookupHash, undefined);
  const facts: EvidenceFacts[] = rows.map((row) => ({
    id: row.id,
    status: row.status,
    identifiedAt: new Date(row.identifiedAt),
    validUntil: new Date(row.validUntil),
    capabilities: row.capabilities,
    termsAccepted: row.termsStatus
      ? effectiveTermsStatus({ status: row.termsStatus, linkExpiresAt: row.termsLinkExpiresAt == null ? null : new Date(row.termsLinkExpiresAt) }) === 'ACCEPTED'
      : false,
    // Personal data is opened only when a name must be compared.
    subject: name ? deps.dataProtection.open<{ subject: EvidenceSubject }>(row.personalDataSealed).subject : { givenNames: '', surname: '' },
  }));
  const verification = verifyEvidence(facts, { jurisdiction: input.jurisdiction, loa: input.loa, name });
  // Answered only once the audit row is committed, with those of concurrent requests (group
  // commit, see verification-audit.ts): no answered lookup goes unrecorded, even after a crash.
  await auditBatcherFor(deps.database).record({
    id: randomUUID(),
    clientId: viewer.clientId,
    operation: name ? 'VERIFY' : 'LOOKUP',
    mobileNumberHash: lookupHash,
    reason: verification.reason,
    valid: verification.valid,
    evidenceId: verification.evidence?.id ?? null,
    at: new Date(),
  });
  return ok(verification);
}

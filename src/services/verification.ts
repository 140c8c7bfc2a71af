import { randomUUID } from 'node:crypto';
import type { PrismaClient, TermsStatus } from '../generated/prisma/client.js';
import type { Viewer } from '../context.js';
import type { DataProtection } from '../crypto/data-protection.js';
import type { Jurisdiction, LevelOfAssurance, SignatureCapability } from '../domain/catalogue.js';
import { normaliseMobileNumber } from '../domain/initial-data.js';
import { effectiveTermsStatus } from '../domain/terms.js';
import { verifyEvidence, type EvidenceFacts, type Verification } from '../domain/verification.js';
import type { EvidenceSubject } from '../domain/evidence.js';
import { failed, ok, userError, type Result } from '../domain/user-errors.js';

export interface VerificationInput {
  mobileNumber: string;
  jurisdiction?: Jurisdiction | null;
  loa?: LevelOfAssurance | null;
  distinguishedName?: { givenNames: string; surname: string; country?: string | null } | null;
}

interface EvidenceRow {
  id: string;
  status: EvidenceFacts['status'];
  identifiedAt: Date;
  validUntil: Date;
  capabilities: SignatureCapability[];
  personalDataSealed: string;
  termsStatus: TermsStatus | null;
  termsLinkExpiresAt: Date | null;
}

/**
 * lookup (no name) and verify (with a distinguished name): whether the number may sign, from all
 * evidence of that number, and an audit record of the question and the answer (the number only
 * as its keyed hash).
 */
export async function verifyMobileNumber(
  deps: { prisma: PrismaClient; dataProtection: DataProtection },
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
  // lookup and verify are the hottest calls of the service, so both statements are plain SQL:
  // Prisma 6 plans every typed query anew in WebAssembly on the event loop, which cost more
  // than the query itself here (see BENCHMARKS.md).
  const rows = await deps.prisma.$queryRaw<EvidenceRow[]>`
    SELECT e.id, e.status::text AS status, e."identifiedAt", e."validUntil", e.capabilities, e."personalDataSealed",
           t.status::text AS "termsStatus", t."linkExpiresAt" AS "termsLinkExpiresAt"
    FROM "Evidence" e LEFT JOIN "TermsAcceptance" t ON t."evidenceId" = e.id
    WHERE e."mobileNumberHash" = ${lookupHash}`;
  const facts: EvidenceFacts[] = rows.map((row) => ({
    id: row.id,
    status: row.status,
    identifiedAt: row.identifiedAt,
    validUntil: row.validUntil,
    capabilities: row.capabilities,
    termsAccepted: row.termsStatus ? effectiveTermsStatus({ status: row.termsStatus, linkExpiresAt: row.termsLinkExpiresAt }) === 'ACCEPTED' : false,
    // Personal data is opened only when a name must be compared.
    subject: name ? deps.dataProtection.open<{ subject: EvidenceSubject }>(row.personalDataSealed).subject : { givenNames: '', surname: '' },
  }));
  const verification = verifyEvidence(facts, { jurisdiction: input.jurisdiction, loa: input.loa, name });
  await deps.prisma.$executeRaw`
    INSERT INTO "VerificationAudit" (id, "clientId", operation, "mobileNumberHash", reason, valid, "evidenceId")
    VALUES (${randomUUID()}, ${viewer.clientId}, ${name ? 'VERIFY' : 'LOOKUP'}::"VerificationOperation", ${lookupHash},
            ${verification.reason}, ${verification.valid}, ${verification.evidence?.id ?? null})`;
  return ok(verification);
}

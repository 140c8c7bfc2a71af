import type { PrismaClient } from '../generated/prisma/client.js';
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
  const rows = await deps.prisma.evidence.findMany({ where: { mobileNumberHash: lookupHash }, include: { terms: true } });
  const facts: EvidenceFacts[] = rows.map((row) => ({
    id: row.id,
    status: row.status,
    identifiedAt: row.identifiedAt,
    validUntil: row.validUntil,
    capabilities: row.capabilities as unknown as SignatureCapability[],
    termsAccepted: row.terms ? effectiveTermsStatus(row.terms) === 'ACCEPTED' : false,
    // Personal data is opened only when a name must be compared.
    subject: name ? deps.dataProtection.open<{ subject: EvidenceSubject }>(row.personalDataSealed).subject : { givenNames: '', surname: '' },
  }));
  const verification = verifyEvidence(facts, { jurisdiction: input.jurisdiction, loa: input.loa, name });
  await deps.prisma.verificationAudit.create({
    data: {
      clientId: viewer.clientId,
      operation: name ? 'VERIFY' : 'LOOKUP',
      mobileNumberHash: lookupHash,
      reason: verification.reason,
      valid: verification.valid,
      evidenceId: verification.evidence?.id ?? null,
    },
  });
  return ok(verification);
}

// Whether a mobile number may sign: the verify / lookup rules. Plain functions: no GraphQL, no Prisma.
import type { Jurisdiction, LevelOfAssurance, SignatureCapability } from './catalogue.js';

export const VERIFICATION_REASONS = ['OK', 'NO_EVIDENCE', 'EXPIRED', 'REVOKED', 'TERMS_PENDING', 'NAME_MISMATCH', 'INSUFFICIENT_LOA'] as const;
export type VerificationReason = (typeof VERIFICATION_REASONS)[number];

const LOA_RANK: Record<LevelOfAssurance, number> = { LOA3: 3, LOA4: 4 };
const NINETY_DAYS_MS = 90 * 24 * 60 * 60 * 1000;

export interface EvidenceFacts {
  id: string;
  status: 'ACTIVE' | 'EXPIRED' | 'REVOKED';
  identifiedAt: Date;
  validUntil: Date;
  capabilities: SignatureCapability[];
  /** T&C accepted, or collected in the partner's app. */
  termsAccepted: boolean;
  subject: { givenNames: string; surname: string; nationality?: string };
}

export interface VerificationRequest {
  jurisdiction?: Jurisdiction | null;
  loa?: LevelOfAssurance | null;
  /** verify only: the distinguished name the evidence must match. */
  name?: { givenNames: string; surname: string; country?: string | null } | null;
}

export interface Verification {
  valid: boolean;
  reason: VerificationReason;
  evidence: EvidenceFacts | null;
  expiresWithin90Days: boolean;
}

const fold = (value: string) => value.trim().toLocaleLowerCase('und');

/**
 * The surname must match exactly, ignoring case and surrounding spaces, and at least one given
 * name must be among the evidence's given names. A country, when given and known on both
 * sides, must match the nationality.
 */
export function nameMatches(subject: EvidenceFacts['subject'], name: NonNullable<VerificationRequest['name']>): boolean {
  if (fold(subject.surname) !== fold(name.surname)) return false;
  const known = new Set(subject.givenNames.split(/\s+/).map(fold).filter(Boolean));
  if (!name.givenNames.split(/\s+/).map(fold).some((given) => given && known.has(given))) return false;
  const country = name.country?.trim().toUpperCase();
  return !country || !subject.nationality || subject.nationality.toUpperCase() === country;
}

/** Whether the capabilities reach the requested level in the requested jurisdiction (any, when none). */
export function meetsLevel(capabilities: SignatureCapability[], request: Pick<VerificationRequest, 'jurisdiction' | 'loa'>): boolean {
  const usable = capabilities.filter((capability) => !request.jurisdiction || capability.jurisdiction === request.jurisdiction);
  if (!usable.length) return false;
  return !request.loa || usable.some((capability) => LOA_RANK[capability.loa] >= LOA_RANK[request.loa!]);
}

/** Why one evidence does or does not let its holder sign now. */
export function evaluateEvidence(evidence: EvidenceFacts, request: VerificationRequest, now: Date): VerificationReason {
  if (evidence.status === 'REVOKED') return 'REVOKED';
  if (evidence.status === 'EXPIRED' || evidence.validUntil <= now) return 'EXPIRED';
  if (request.name && !nameMatches(evidence.subject, request.name)) return 'NAME_MISMATCH';
  if (!meetsLevel(evidence.capabilities, request)) return 'INSUFFICIENT_LOA';
  if (!evidence.termsAccepted) return 'TERMS_PENDING';
  return 'OK';
}

/**
 * The answer for all evidence of one number: the newest valid evidence wins; without one, the
 * newest evidence's reason is given, as the one the user can act on.
 */
export function verifyEvidence(evidences: readonly EvidenceFacts[], request: VerificationRequest, now: Date = new Date()): Verification {
  const newestFirst = [...evidences].sort((a, b) => b.identifiedAt.getTime() - a.identifiedAt.getTime());
  if (!newestFirst.length) return { valid: false, reason: 'NO_EVIDENCE', evidence: null, expiresWithin90Days: false };
  const evaluated = newestFirst.map((evidence) => ({ evidence, reason: evaluateEvidence(evidence, request, now) }));
  const chosen = evaluated.find((entry) => entry.reason === 'OK') ?? evaluated[0];
  const expiresWithin90Days = chosen.reason === 'OK' && chosen.evidence.validUntil.getTime() - now.getTime() <= NINETY_DAYS_MS;
  return { valid: chosen.reason === 'OK', reason: chosen.reason, evidence: chosen.evidence, expiresWithin90Days };
}

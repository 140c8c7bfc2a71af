// Evidence rules. Plain functions: no GraphQL, no Prisma.
import { normaliseMobileNumber, parseCalendarDate, isCountryCode } from './initial-data.js';
import { userError, type UserError } from './user-errors.js';

export const DOCUMENT_TYPES = ['PASSPORT', 'ID_CARD', 'RESIDENCE_PERMIT', 'BANK_ACCOUNT'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

export interface EvidenceSubject {
  givenNames: string;
  surname: string;
  dateOfBirth: string;
  nationality?: string;
  placeOfBirth?: string;
}

export interface EvidenceDocument {
  type: DocumentType;
  number?: string;
  issuingCountry?: string;
  validUntil?: string;
}

export interface EvidenceImportInput {
  mobileNumber: string;
  subject: { givenNames: string; surname: string; dateOfBirth: string; nationality?: string | null; placeOfBirth?: string | null };
  document: { type: DocumentType; number?: string | null; issuingCountry?: string | null; validUntil?: string | null };
  identifiedAt: Date;
}

export interface ValidEvidence {
  mobileNumber: string;
  subject: EvidenceSubject;
  document: EvidenceDocument;
  identifiedAt: Date;
}

/** Adds calendar months in UTC, clamping to the month's last day (31 Jan + 1 month = 28/29 Feb). */
export function addMonths(date: Date, months: number): Date {
  const result = new Date(date.getTime());
  const day = result.getUTCDate();
  result.setUTCDate(1);
  result.setUTCMonth(result.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
  result.setUTCDate(Math.min(day, lastDay));
  return result;
}

/** The method's validity from the identification, capped by the end of the document's last valid day. */
export function evidenceValidUntil(identifiedAt: Date, validityMonths: number, documentValidUntil?: string | null): Date {
  const byMethod = addMonths(identifiedAt, validityMonths);
  const documentEnd = documentValidUntil ? parseCalendarDate(documentValidUntil) : null;
  if (!documentEnd) return byMethod;
  const endOfDocumentDay = new Date(documentEnd.getTime() + 24 * 60 * 60 * 1000 - 1);
  return endOfDocumentDay < byMethod ? endOfDocumentDay : byMethod;
}

/** Checks an IPSP's evidence import; every problem is reported with its field path. */
export function validateEvidenceImport(input: EvidenceImportInput, now: Date = new Date()): { value?: ValidEvidence; errors: UserError[] } {
  const errors: UserError[] = [];
  const invalid = (path: string[], message: string) => errors.push(userError('INVALID_INPUT', message, ['input', ...path]));
  const mobileNumber = normaliseMobileNumber(input.mobileNumber.trim());
  if (!mobileNumber) invalid(['mobileNumber'], 'mobileNumber must be a mobile number in international form, e.g. +41791234567.');
  const givenNames = input.subject.givenNames.trim();
  const surname = input.subject.surname.trim();
  if (!givenNames) invalid(['subject', 'givenNames'], 'givenNames must not be empty.');
  if (!surname) invalid(['subject', 'surname'], 'surname must not be empty.');
  const birth = parseCalendarDate(input.subject.dateOfBirth);
  if (!birth || birth >= now) invalid(['subject', 'dateOfBirth'], 'dateOfBirth must be a past date (YYYY-MM-DD).');
  const nationality = input.subject.nationality?.trim().toUpperCase() || undefined;
  if (nationality && !isCountryCode(nationality)) invalid(['subject', 'nationality'], 'nationality must be an ISO 3166-1 alpha-2 code.');
  const issuingCountry = input.document.issuingCountry?.trim().toUpperCase() || undefined;
  if (issuingCountry && !isCountryCode(issuingCountry)) invalid(['document', 'issuingCountry'], 'issuingCountry must be an ISO 3166-1 alpha-2 code.');
  const validUntil = input.document.validUntil?.trim() || undefined;
  if (validUntil) {
    const date = parseCalendarDate(validUntil);
    if (!date) invalid(['document', 'validUntil'], 'validUntil must be a date (YYYY-MM-DD).');
    else if (date.getTime() + 24 * 60 * 60 * 1000 <= input.identifiedAt.getTime()) invalid(['document', 'validUntil'], 'The document had expired when the person was identified.');
  }
  if (Number.isNaN(input.identifiedAt.getTime()) || input.identifiedAt.getTime() > now.getTime() + 5 * 60 * 1000) {
    invalid(['identifiedAt'], 'identifiedAt must not lie in the future.');
  }
  if (errors.length) return { errors };
  return {
    errors,
    value: {
      mobileNumber: mobileNumber!,
      subject: { givenNames, surname, dateOfBirth: input.subject.dateOfBirth, nationality, placeOfBirth: input.subject.placeOfBirth?.trim() || undefined },
      document: { type: input.document.type, number: input.document.number?.trim() || undefined, issuingCountry, validUntil },
      identifiedAt: input.identifiedAt,
    },
  };
}

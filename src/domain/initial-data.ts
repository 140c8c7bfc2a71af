// Validation of the initial identity data a service provider sends with an order, against the
// chosen method's rules. Plain functions: no GraphQL, no Prisma.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import type { IdentificationMethodDefinition, IdentityAttribute } from './catalogue.js';
import { userError, type UserError } from './user-errors.js';

export interface InitialIdentityDataInput {
  givenNames?: string | null;
  surname?: string | null;
  dateOfBirth?: string | null;
  mobileNumber?: string | null;
  placeOfBirth?: string | null;
  nationality?: string | null;
  country?: string | null;
  email?: string | null;
  documentValidUntil?: string | null;
}

/** The data as stored: trimmed, dates as YYYY-MM-DD, countries upper case, the mobile number in E.164. */
export type InitialIdentityData = { [K in keyof InitialIdentityDataInput]?: string } & { language?: string };

const INPUT_FIELD: Record<Exclude<IdentityAttribute, 'LANGUAGE'>, keyof InitialIdentityDataInput> = {
  GIVEN_NAMES: 'givenNames',
  SURNAME: 'surname',
  DATE_OF_BIRTH: 'dateOfBirth',
  MOBILE_NUMBER: 'mobileNumber',
  PLACE_OF_BIRTH: 'placeOfBirth',
  NATIONALITY: 'nationality',
  COUNTRY: 'country',
  EMAIL: 'email',
  DOCUMENT_VALID_UNTIL: 'documentValidUntil',
};

/** Issuers whose process fails on a surname with a title or punctuation; refused up front here. */
const PLAIN_SURNAME_ISSUERS = new Set(['IDENTITY.TM']);
const TITLES = new Set(['DR', 'PROF', 'DIPL', 'ING', 'MAG', 'LIC', 'MED', 'PHD', 'MR', 'MRS', 'MS', 'SIR', 'HERR', 'FRAU']);
const MAX_TEXT_LENGTH = 200;
const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

export function isCountryCode(code: string): boolean {
  return /^[A-Z]{2}$/.test(code) && regionNames.of(code) !== code;
}

/** A calendar date YYYY-MM-DD that exists, or null. */
export function parseCalendarDate(value: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value ? null : date;
}

/** A mobile number in E.164, or null. Without a country code it is read as Swiss when country is CH. */
export function normaliseMobileNumber(value: string, country?: string): string | null {
  const parsed = parsePhoneNumberFromString(value, country === 'CH' ? ('CH' as CountryCode) : undefined);
  if (!parsed?.isValid()) return null;
  const type = parsed.getType();
  if (type !== undefined && type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') return null;
  return parsed.number;
}

/**
 * Checks initial data against a method: every problem is reported, each with its field path;
 * on success returns the normalised data.
 */
export function validateInitialData(
  method: Pick<IdentificationMethodDefinition, 'issuer' | 'initialData' | 'languages'>,
  input: InitialIdentityDataInput | null | undefined,
  language: string | null | undefined,
  today: Date = new Date(),
): { data: InitialIdentityData; errors: UserError[] } {
  const errors: UserError[] = [];
  const data: InitialIdentityData = {};
  const given: Record<string, string> = {};
  for (const [key, raw] of Object.entries(input ?? {})) {
    const value = typeof raw === 'string' ? raw.trim() : raw;
    if (value) given[key] = value;
  }
  const lang = language?.trim().toLowerCase() || undefined;

  for (const rule of method.initialData) {
    const isLanguage = rule.attribute === 'LANGUAGE';
    const field = rule.attribute === 'LANGUAGE' ? 'language' : INPUT_FIELD[rule.attribute];
    const path = isLanguage ? ['input', 'language'] : ['input', 'initialData', field];
    const present = isLanguage ? lang !== undefined : given[field] !== undefined;
    if (rule.requirement === 'MANDATORY' && !present) {
      errors.push(userError('MISSING_MANDATORY_ATTRIBUTE', `${method.issuer} needs ${field}${rule.mustMatchDocument ? ', exactly as on the document' : ''}.`, path));
    } else if (rule.requirement === 'NOT_ACCEPTED' && present) {
      errors.push(userError('ATTRIBUTE_NOT_ACCEPTED', `${method.issuer} does not accept ${field}; leave it out.`, path));
    }
  }

  const invalid = (field: string, message: string) => errors.push(userError('INVALID_INPUT', message, ['input', 'initialData', field]));
  for (const [field, value] of Object.entries(given)) {
    if (value.length > MAX_TEXT_LENGTH) invalid(field, `${field} is longer than ${MAX_TEXT_LENGTH} characters.`);
  }
  for (const field of ['givenNames', 'surname', 'placeOfBirth'] as const) {
    const value = given[field];
    if (value === undefined) continue;
    if (/[\p{Cc}<>]/u.test(value) || !/\p{L}/u.test(value)) invalid(field, `${field} must be a name.`);
    else data[field] = value;
  }
  if (given.surname && PLAIN_SURNAME_ISSUERS.has(method.issuer.toUpperCase())) {
    const words = given.surname.split(/\s+/);
    if (!/^[\p{L}\p{M}\s]+$/u.test(given.surname) || words.some((word) => TITLES.has(word.toUpperCase()))) {
      invalid('surname', `${method.issuer} needs the surname alone: no title, punctuation or special characters.`);
      delete data.surname;
    }
  }
  for (const field of ['nationality', 'country'] as const) {
    const value = given[field]?.toUpperCase();
    if (value === undefined) continue;
    if (isCountryCode(value)) data[field] = value;
    else invalid(field, `${field} must be an ISO 3166-1 alpha-2 country code such as CH or DE.`);
  }
  if (given.dateOfBirth !== undefined) {
    const date = parseCalendarDate(given.dateOfBirth);
    if (!date || date >= today || date.getUTCFullYear() < 1900) invalid('dateOfBirth', 'dateOfBirth must be a past date (YYYY-MM-DD) after 1900.');
    else data.dateOfBirth = given.dateOfBirth;
  }
  if (given.documentValidUntil !== undefined) {
    const date = parseCalendarDate(given.documentValidUntil);
    if (!date || date < today) invalid('documentValidUntil', 'documentValidUntil must be a date (YYYY-MM-DD) that has not passed.');
    else data.documentValidUntil = given.documentValidUntil;
  }
  if (given.email !== undefined) {
    if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(given.email)) data.email = given.email;
    else invalid('email', 'email must be an e-mail address.');
  }
  if (given.mobileNumber !== undefined) {
    const e164 = normaliseMobileNumber(given.mobileNumber, data.country ?? given.country?.toUpperCase());
    if (e164) data.mobileNumber = e164;
    else invalid('mobileNumber', 'mobileNumber must be a mobile number with its country code, e.g. +41 79 123 45 67 (Swiss numbers may omit it when country is CH).');
  }
  if (lang !== undefined) {
    if (method.languages.includes(lang)) data.language = lang;
    else errors.push(userError('INVALID_INPUT', `${method.issuer} offers ${method.languages.join(', ')}; not "${language}".`, ['input', 'language']));
  }
  return { data, errors };
}

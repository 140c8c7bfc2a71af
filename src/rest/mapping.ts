// What the commercial SRS's REST routes send and answer, mapped to and from this service's own
// inputs and results. Parsing and renaming only: every rule lives in the services and the domain.
import {
  JURISDICTIONS,
  LEVELS_OF_ASSURANCE,
  METHOD_TYPES,
  type IdentificationMethodDefinition,
  type Jurisdiction,
  type LevelOfAssurance,
  type MethodFilter,
  type MethodType,
} from '../domain/catalogue.js';
import type { UserError } from '../domain/user-errors.js';
import type { Verification } from '../domain/verification.js';
import type { PlaceOrderInput } from '../services/orders.js';
import type { VerificationInput } from '../services/verification.js';
import { RestError } from './http.js';

// ---- filters and path segments ----------------------------------------------------------------

/** EIDAS / ZERTES in any case; the guide's country names for them, EU and CH, too. */
export function parseJurisdiction(value: string, field = 'jurisdiction'): Jurisdiction {
  const upper = value.trim().toUpperCase();
  const alias: Record<string, Jurisdiction> = { EU: 'EIDAS', CH: 'ZERTES' };
  const jurisdiction = alias[upper] ?? upper;
  if ((JURISDICTIONS as readonly string[]).includes(jurisdiction)) return jurisdiction as Jurisdiction;
  throw new RestError(400, 'INVALID_INPUT', `${field} must be one of EIDAS (or EU) and ZERTES (or CH), in any case; not "${value}".`, field);
}

/** 3 or 4, also written LOA3 / LOA4 in any case. */
export function parseLevelOfAssurance(value: string, field = 'loa'): LevelOfAssurance {
  const compact = value.trim().toUpperCase().replace(/\s+/g, '');
  const loa = /^\d$/.test(compact) ? `LOA${compact}` : compact;
  if ((LEVELS_OF_ASSURANCE as readonly string[]).includes(loa)) return loa as LevelOfAssurance;
  throw new RestError(400, 'INVALID_INPUT', `${field} must be 3 or 4 (or LOA3, LOA4); not "${value}".`, field);
}

/** A method type as the guide writes it: video, eID, bank, robo-ident, autoident, in-person (any case). */
export function methodTypeOf(value: string): MethodType | null {
  const type = value.trim().toUpperCase().replace(/[-\s]/g, '_');
  return (METHOD_TYPES as readonly string[]).includes(type) ? (type as MethodType) : null;
}

function parseMethodType(value: string): MethodType {
  const type = methodTypeOf(value);
  if (type) return type;
  throw new RestError(400, 'INVALID_INPUT', `method must be one of video, eID, bank, robo-ident, autoident, in-person; not "${value}".`, 'method');
}

function parseBoolean(value: string, field: string): boolean {
  const lower = value.trim().toLowerCase();
  if (lower === 'true' || lower === 'false') return lower === 'true';
  throw new RestError(400, 'INVALID_INPUT', `${field} must be true or false; not "${value}".`, field);
}

/**
 * The method filter of GET /api/providers, from the query string or, for a filter the query
 * lacks, from a request header of the same name. List filters take repeated or comma-separated
 * values; an unknown value is a 400, as the GraphQL enum would be.
 */
export function providerFilter(query: URLSearchParams, headers: Record<string, string | string[] | undefined>): MethodFilter {
  const valuesOf = (name: string): string[] => {
    const fromQuery = [...query.entries()].filter(([key]) => key.toLowerCase() === name.toLowerCase()).map(([, value]) => value);
    const header = headers[name.toLowerCase()];
    const raw = fromQuery.length ? fromQuery : header === undefined ? [] : Array.isArray(header) ? header : [header];
    return raw.flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
  };
  const single = (name: string): string | undefined => {
    const values = valuesOf(name);
    if (values.length > 1) throw new RestError(400, 'INVALID_INPUT', `${name} takes one value.`, name);
    return values[0];
  };
  const filter: MethodFilter = {};
  const [issuers, jurisdictions, loa, methods] = [valuesOf('issuer'), valuesOf('jurisdiction'), single('loa'), valuesOf('method')];
  if (issuers.length) filter.issuers = issuers;
  if (jurisdictions.length) filter.jurisdictions = [...new Set(jurisdictions.map((value) => parseJurisdiction(value)))];
  if (loa !== undefined) filter.loa = parseLevelOfAssurance(loa);
  if (methods.length) filter.methodTypes = [...new Set(methods.map(parseMethodType))];
  for (const flag of ['offline', 'webFlow', 'realtime'] as const) {
    const value = single(flag);
    if (value !== undefined) filter[flag] = parseBoolean(value, flag);
  }
  return filter;
}

/**
 * Whether the `{method}` segment of /api/providers/{issuer}/{method} names this method: its name
 * (e.g. video, robo-ident) or its type as the guide writes it (e.g. eID), in any case.
 */
export function methodSegmentMatches(method: Pick<IdentificationMethodDefinition, 'name' | 'type'>, segment: string): boolean {
  return segment.trim().toLowerCase() === method.name.toLowerCase() || methodTypeOf(segment) === method.type;
}

// ---- placing an order -------------------------------------------------------------------------

/** The order body's fields, and where each goes in this service's placeOrder input. */
const ORDER_TEXT_FIELDS = {
  firstName: 'givenNames',
  lastName: 'surname',
  dob: 'dateOfBirth',
  mobile: 'mobileNumber',
  country: 'country',
  nationality: 'nationality',
  placeOfBirth: 'placeOfBirth',
  email: 'email',
  documentValidUntil: 'documentValidUntil',
} as const;
const ORDER_FIELDS = [...Object.keys(ORDER_TEXT_FIELDS), 'externalId', 'language', 'disabledSmsAlerts'];

function optionalText(body: Record<string, unknown>, field: string): string | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new RestError(422, 'INVALID_INPUT', `${field} must be a string.`, field);
  return value;
}

/** The body of POST /api/providers/{issuer}/{method} as placeOrder's input; unknown fields are refused. */
export function placeOrderInputFrom(body: Record<string, unknown>, methodId: string, idempotencyKey: string | undefined): PlaceOrderInput {
  const unknown = Object.keys(body).find((key) => !ORDER_FIELDS.includes(key));
  if (unknown) throw new RestError(422, 'INVALID_INPUT', `Unknown field "${unknown}"; this route takes ${ORDER_FIELDS.join(', ')}.`, unknown);
  const initialData: Record<string, string | null> = {};
  for (const [field, target] of Object.entries(ORDER_TEXT_FIELDS)) initialData[target] = optionalText(body, field);
  const disabledSmsAlerts = body.disabledSmsAlerts;
  if (disabledSmsAlerts !== undefined && disabledSmsAlerts !== null && typeof disabledSmsAlerts !== 'boolean') {
    throw new RestError(422, 'INVALID_INPUT', 'disabledSmsAlerts must be true or false.', 'disabledSmsAlerts');
  }
  return {
    methodId,
    initialData,
    externalId: optionalText(body, 'externalId'),
    language: optionalText(body, 'language'),
    disabledSmsAlerts: disabledSmsAlerts ?? null,
    idempotencyKey: idempotencyKey ?? null,
  };
}

/** This service's input field paths, named as the REST bodies name them. */
const REST_FIELD_OF: Record<string, string> = {
  ...Object.fromEntries(Object.entries(ORDER_TEXT_FIELDS).map(([rest, own]) => [own, rest])),
  methodId: 'method',
  idempotencyKey: 'Idempotency-Key',
  mobileNumber: 'msisdn',
};

export function restField(field: string[] | null): string | null {
  if (!field?.length) return null;
  const last = field[field.length - 1];
  // In an order the mobile number is `mobile`; in lookup and verify it is `msisdn`.
  if (last === 'mobileNumber' && field.includes('initialData')) return 'mobile';
  return REST_FIELD_OF[last] ?? last;
}

/** The HTTP status of a refusal the services answered as user errors. */
const STATUS_OF_CODE: Record<string, number> = {
  METHOD_NOT_FOUND: 404,
  METHOD_UNAVAILABLE: 404,
  ORDER_NOT_FOUND: 404,
  NOT_FOUND: 404,
  FORBIDDEN: 403,
  IDEMPOTENCY_CONFLICT: 409,
};

/** The services' user errors as one REST error: the first one's status, code and message, all of them listed. */
export function restErrorOf(errors: UserError[]): RestError {
  const [first] = errors;
  return new RestError(
    STATUS_OF_CODE[first.code] ?? 422,
    first.code,
    first.message,
    restField(first.field),
    errors.map((error) => ({ code: error.code, message: error.message, field: restField(error.field) })),
  );
}

// ---- lookup and verify ------------------------------------------------------------------------

/**
 * An MSISDN as the commercial SRS takes it: the international number, with or without its `+`
 * (41791234567 or +41791234567). Digits without a leading 0 or + get the `+`.
 */
export function msisdnToInternational(value: string): string {
  const compact = value.replace(/[\s-]/g, '');
  return /^[1-9]\d{6,14}$/.test(compact) ? `+${compact}` : value;
}

/** Splits an RFC 4514 distinguished name on its unescaped commas into attribute -> value (keys lower case). */
function distinguishedNameAttributes(dn: string): Map<string, string> {
  const attributes = new Map<string, string>();
  let current = '';
  const parts: string[] = [];
  for (let i = 0; i < dn.length; i++) {
    const char = dn[i];
    if (char === '\\' && i + 1 < dn.length) current += dn[++i];
    else if (char === ',' || char === ';') {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  for (const part of parts) {
    const equals = part.indexOf('=');
    if (equals <= 0) throw new RestError(422, 'INVALID_INPUT', 'distinguishedName must be attribute=value pairs separated by commas, e.g. "cn=Max Maximus, givenname=Max, surname=Maximus, c=CH".', 'distinguishedName');
    attributes.set(part.slice(0, equals).trim().toLowerCase(), part.slice(equals + 1).trim());
  }
  return attributes;
}

/** `cn=Max Maximus, givenname=Max, surname=Maximus, c=RO` -> the name verify matches (givenname/gn, surname/sn, c). */
export function parseDistinguishedName(dn: string): NonNullable<VerificationInput['distinguishedName']> {
  const attributes = distinguishedNameAttributes(dn);
  const givenNames = attributes.get('givenname') ?? attributes.get('gn');
  const surname = attributes.get('surname') ?? attributes.get('sn');
  if (!givenNames || !surname) {
    throw new RestError(422, 'INVALID_INPUT', 'distinguishedName needs givenname (or gn) and surname (or sn).', 'distinguishedName');
  }
  return { givenNames, surname, country: attributes.get('c') || null };
}

function requiredText(body: Record<string, unknown>, field: string): string {
  const value = optionalText(body, field);
  if (!value?.trim()) throw new RestError(422, 'INVALID_INPUT', `${field} is required.`, field);
  return value;
}

const EVIDENCE_FIELDS = ['msisdn', 'jurisdiction', 'assuranceLevel', 'distinguishedName'];

/** The body of POST /api/evidences/lookup or /verify as the verification service's input. */
export function verificationInputFrom(body: Record<string, unknown>, withName: boolean): VerificationInput {
  const allowed = withName ? EVIDENCE_FIELDS : EVIDENCE_FIELDS.filter((field) => field !== 'distinguishedName');
  const unknown = Object.keys(body).find((key) => !allowed.includes(key));
  if (unknown) throw new RestError(422, 'INVALID_INPUT', `Unknown field "${unknown}"; this route takes ${allowed.join(', ')}.`, unknown);
  const jurisdiction = optionalText(body, 'jurisdiction');
  const assuranceLevel = body.assuranceLevel;
  if (assuranceLevel !== undefined && assuranceLevel !== null && typeof assuranceLevel !== 'string' && typeof assuranceLevel !== 'number') {
    throw new RestError(422, 'INVALID_INPUT', 'assuranceLevel must be "3" or "4".', 'assuranceLevel');
  }
  const asUnprocessable = <T>(parse: () => T): T => {
    try {
      return parse();
    } catch (error) {
      if (error instanceof RestError) throw new RestError(422, error.code, error.message, error.field);
      throw error;
    }
  };
  return {
    mobileNumber: msisdnToInternational(requiredText(body, 'msisdn')),
    jurisdiction: jurisdiction?.trim() ? asUnprocessable(() => parseJurisdiction(jurisdiction)) : null,
    loa: assuranceLevel == null || assuranceLevel === '' ? null : asUnprocessable(() => parseLevelOfAssurance(String(assuranceLevel), 'assuranceLevel')),
    distinguishedName: withName ? parseDistinguishedName(requiredText(body, 'distinguishedName')) : null,
  };
}

/** The answer of lookup and verify. */
export function verificationView(verification: Verification) {
  return {
    valid: verification.valid,
    reason: verification.reason,
    evidenceId: verification.evidence?.id ?? null,
    validUntil: verification.evidence?.validUntil.toISOString() ?? null,
    expiresWithin90Days: verification.expiresWithin90Days,
    capabilities: verification.evidence?.capabilities ?? [],
  };
}

// ---- methods and orders -----------------------------------------------------------------------

/** One entry of GET /api/providers. */
export function providerView(method: IdentificationMethodDefinition) {
  return {
    issuer: method.issuer,
    method: method.name,
    methodType: method.type,
    capabilities: method.capabilities,
    offline: method.offline,
    webFlow: method.webFlow,
    realtime: method.realtime,
    languages: method.languages,
    evidenceValidityMonths: method.evidenceValidityMonths,
    targetUrlValiditySeconds: method.targetUrlValiditySeconds,
    termsInApp: method.termsInApp,
    testOnly: method.testOnly,
    initialData: method.initialData.map((rule) => ({ ...rule, field: restAttributeName(rule.attribute) })),
    href: `/api/providers/${encodeURIComponent(method.issuer)}/${encodeURIComponent(method.name)}`,
  };
}

/** The order body's field for an initial-data attribute (LANGUAGE is `language`). */
function restAttributeName(attribute: string): string {
  const own = attribute.toLowerCase().replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
  if (own === 'language') return 'language';
  return (REST_FIELD_OF[own] === 'msisdn' ? 'mobile' : REST_FIELD_OF[own]) ?? own;
}

interface OrderForView {
  refId: string;
  ipspOrderId: string | null;
  issuer: string;
  status: string;
  statusReason: string | null;
  targetUrl: string | null;
  targetUrlExpiresAt: Date | null;
  externalId: string | null;
  language: string | null;
  disabledSmsAlerts: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** The answer of POST /api/providers/{issuer}/{method}. */
export function placedOrderView(order: OrderForView, methodName: string) {
  return {
    refId: order.refId,
    ipspOrderId: order.ipspOrderId,
    issuer: order.issuer,
    method: methodName,
    status: order.status,
    statusReason: order.statusReason,
    targetUrl: order.targetUrl,
    targetUrlExpiresAt: order.targetUrlExpiresAt?.toISOString() ?? null,
  };
}

/** The answer of GET /api/identifications/{refId}. */
export function identificationView(
  order: OrderForView & {
    method: { name: string; type: string };
    events: Array<{ type: string; status: string; previousStatus: string | null; reason: string | null; at: Date }>;
    evidence: { id: string } | null;
  },
  mobile: string | null,
) {
  return {
    ...placedOrderView(order, order.method.name),
    methodType: order.method.type,
    mobile,
    externalId: order.externalId,
    language: order.language,
    disabledSmsAlerts: order.disabledSmsAlerts,
    evidenceId: order.evidence?.id ?? null,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    statuses: order.events
      .filter((event) => event.type === 'STATUS_CHANGED')
      .map((event) => ({ status: event.status, previousStatus: event.previousStatus, reason: event.reason, at: event.at.toISOString() })),
  };
}

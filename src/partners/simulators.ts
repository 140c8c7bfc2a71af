// Built-in simulators of every partner of the catalogue, served by the service itself under
// /ipsp/<partner>/. Each behaves like a real IPSP: it receives orders over HTTP, checks order
// tokens by introspection, shows the end user a page to walk through, and reports back through
// the public GraphQL API with its own client credentials.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { PrismaClient, SimulatedIdentification } from '../generated/prisma/client.js';
import { hashClientSecret } from '../auth/clients.js';
import { upsertClient } from '../auth/client-store.js';
import type { InitialIdentityData } from '../domain/initial-data.js';
import { createSrsApiClient, type SrsApiClient } from './srs-api-client.js';
import type { DataProtection } from '../crypto/data-protection.js';
import type { SqlRunner } from '../db/adapter.js';
import { readForm, readJson, sendJson } from './http-helpers.js';
import { ClientRequestError } from '../http/errors.js';
import { log } from '../observability/log.js';
import { formatDateTime, formatList, translator } from '../i18n/index.js';
import { pageLanguage, sendPage } from '../pages/render.js';
import { partnerCredentials } from './partner-credentials.js';

/** The title and steps shown on a partner's pages are texts of pages.json: simulator.partners.<slug>. */
export interface PartnerProfile {
  issuer: string;
  slug: string;
  /** How often the target URL may be opened (KLARNA: 5 uses; NECT: first try and 5 retries). */
  maxUses?: number;
  /** A session that starts at the first use and ends this many seconds later (KLARNA). */
  sessionSeconds?: number;
  /** KLARNA's URLs are long (~700 characters) and must reach the user intact. */
  longUrl?: boolean;
  /** Completed by an agent in a shop, not by the person at a screen. */
  inPerson?: boolean;
  /** The TEST partner: any outcome, with a reason. */
  anyOutcome?: boolean;
  termsInApp?: boolean;
}

export const PARTNER_PROFILES: readonly PartnerProfile[] = [
  { issuer: 'IDENTITY.TM', slug: 'identity-tm' },
  { issuer: 'KLARNA', slug: 'klarna', maxUses: 5, sessionSeconds: 3600, longUrl: true },
  { issuer: 'IDENTITY-TM-EID', slug: 'identity-tm-eid' },
  { issuer: 'NECT', slug: 'nect', maxUses: 6, termsInApp: true },
  { issuer: 'INTRUM-VIDEO', slug: 'intrum-video' },
  { issuer: 'INTRUM-AUTOIDENT', slug: 'intrum-autoident' },
  { issuer: 'SWISSCOM-RA', slug: 'swisscom-ra', inPerson: true },
  { issuer: 'TEST', slug: 'test', anyOutcome: true },
];

export const SIMULATED_OUTCOMES = ['SUCCESS', 'NEGATIVELY_CONDUCTED', 'ERROR', 'TIMEOUT', 'CANCELED', 'ABORTED'] as const;
export type SimulatedOutcome = (typeof SIMULATED_OUTCOMES)[number];

/** What a person can choose, and the reason reported to the service when they type none (for support: in English). */
const PERSON_OUTCOMES: ReadonlyArray<{ outcome: SimulatedOutcome; reason?: string }> = [
  { outcome: 'SUCCESS' },
  { outcome: 'NEGATIVELY_CONDUCTED', reason: 'Document not valid' },
  { outcome: 'ERROR', reason: 'Camera or microphone not usable' },
  { outcome: 'CANCELED', reason: 'Canceled by the user' },
  { outcome: 'ABORTED', reason: 'User left the identification' },
];

const EVIDENCE_FIELDS = [
  { name: 'givenNames', type: 'text', autocomplete: 'given-name' },
  { name: 'surname', type: 'text', autocomplete: 'family-name' },
  { name: 'dateOfBirth', type: 'date', autocomplete: 'bday' },
  { name: 'nationality', type: 'text', autocomplete: 'country' },
  { name: 'mobileNumber', type: 'tel', autocomplete: 'tel' },
] as const;

export function partnerBySlug(slug: string): PartnerProfile | undefined {
  return PARTNER_PROFILES.find((profile) => profile.slug === slug);
}

export function partnerByIssuer(issuer: string): PartnerProfile | undefined {
  return PARTNER_PROFILES.find((profile) => profile.issuer === issuer.toUpperCase());
}

/** The client id of a simulator's IPSP client. */
export function simulatorClientId(profile: PartnerProfile): string {
  return `sim-${profile.slug}`;
}

/** Stands for "no secret": no presented secret hashes to it, so the client cannot get a token. */
const NO_SECRET = 'none:';

/**
 * Creates (or refreshes) the IPSP clients of the simulators. Their secrets derive from a master
 * secret kept in the database, so every process knows them without storing them in clear. The
 * client of an issuer whose simulator is not served (a real partner serves it, or SIMULATORS=0)
 * gets no usable secret and loses its tokens: it must not report for the real partner's orders.
 */
export async function ensureSimulatorClients(prisma: PrismaClient, simulates: (issuer: string) => boolean = () => true): Promise<Map<string, string>> {
  const masterId = 'simulator-master';
  await prisma.serviceKey.createMany({
    data: [{ id: masterId, purpose: 'simulator', privateJwk: { k: randomBytes(32).toString('base64url') } }],
    skipDuplicates: true,
  });
  const master = (await prisma.serviceKey.findUniqueOrThrow({ where: { id: masterId } })).privateJwk as { k: string };
  const secrets = new Map<string, string>();
  for (const profile of PARTNER_PROFILES) {
    const secret = createHmac('sha256', master.k).update(profile.issuer).digest('base64url');
    const data = {
      name: `Simulator of ${profile.issuer}`,
      role: 'IPSP' as const,
      issuer: profile.issuer,
      scopes: ['methods:read', 'ipsp'],
      secretHash: simulates(profile.issuer) ? hashClientSecret(secret) : NO_SECRET,
    };
    // An operator may disable a simulator (clients disable sim-…); a restart keeps it so.
    await upsertClient(prisma, simulatorClientId(profile), data);
    if (!simulates(profile.issuer)) {
      await prisma.oidcPayload.deleteMany({ where: { payload: { path: ['clientId'], equals: simulatorClientId(profile) } } });
      continue;
    }
    secrets.set(profile.issuer, secret);
  }
  return secrets;
}

const REPORT = `mutation Report($input: ReportIdentificationStatusInput!) {
  reportIdentificationStatus(input: $input) { order { status } userErrors { code message } }
}`;
const IMPORT = `mutation Import($input: ImportEvidenceInput!) {
  importEvidence(input: $input) { order { status } userErrors { code message } }
}`;
const STATUS = `query Status($refId: ID!) { order(refId: $refId) { status } }`;

interface EvidenceFields {
  givenNames: string;
  surname: string;
  dateOfBirth: string;
  mobileNumber: string;
  nationality?: string;
}

export interface Simulators {
  /** Handles a request under /ipsp/; returns false when the path is not the simulators'. */
  handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<boolean>;
}

/**
 * @param internalUrl where the simulators reach SRS's API (OAuth2 and GraphQL)
 * @param publicUrl where end users reach the simulators' pages
 */
export function createSimulators(options: {
  prisma: PrismaClient;
  database: SqlRunner;
  internalUrl: string;
  publicUrl: string;
  secrets: Map<string, string>;
  testMode: boolean;
  /** The simulators keep personal data in the service's database, so they seal it like the service. */
  dataProtection: DataProtection;
  /** Whether an issuer's simulator is served (not when a real partner serves it); default: all. */
  simulates?: (issuer: string) => boolean;
}): Simulators {
  const { prisma, publicUrl } = options;
  const initialDataOf = (identification: SimulatedIdentification) => options.dataProtection.open<InitialIdentityData>(identification.initialDataSealed);
  // The order token is sealed too (a row sealed before the token was, holds it in clear).
  const tokenOf = (identification: SimulatedIdentification) =>
    identification.orderToken.startsWith('v1.') ? options.dataProtection.open<string>(identification.orderToken) : identification.orderToken;
  const apis = new Map<string, SrsApiClient>();
  const apiFor = (profile: PartnerProfile): SrsApiClient => {
    let api = apis.get(profile.issuer);
    if (!api) {
      api = createSrsApiClient(options.internalUrl, { clientId: simulatorClientId(profile), clientSecret: options.secrets.get(profile.issuer)! });
      apis.set(profile.issuer, api);
    }
    return api;
  };

  /** The order token is valid, of this partner, and for this order. */
  async function tokenFits(profile: PartnerProfile, token: string | undefined, refId?: string): Promise<string | undefined> {
    if (!token) return undefined;
    const claims = await apiFor(profile).introspect(token);
    if (!claims.active || claims.srs_issuer !== profile.issuer || !claims.srs_ref_id) return undefined;
    if (refId && claims.srs_ref_id !== refId) return undefined;
    return claims.srs_ref_id;
  }

  async function report(profile: PartnerProfile, identification: SimulatedIdentification, status: string, reason?: string): Promise<void> {
    const { reportIdentificationStatus: result } = await apiFor(profile).graphql<{ reportIdentificationStatus: { userErrors: Array<{ message: string }> } }>(REPORT, {
      input: { refId: identification.refId, status, reason: reason || null, ipspOrderId: identification.id },
    });
    if (result.userErrors.length) throw new Error(result.userErrors.map((error) => error.message).join('; '));
  }

  /** Carries out an outcome the way the partner would: reports, and on success imports evidence. */
  async function conclude(profile: PartnerProfile, identification: SimulatedIdentification, outcome: SimulatedOutcome, reason: string | undefined, evidence: EvidenceFields): Promise<void> {
    if (outcome === 'SUCCESS') {
      // A refused import (e.g. a typo on the page) leaves the order in DATA_READY: a corrected
      // second try only imports again.
      const { order } = await apiFor(profile).graphql<{ order: { status: string } | null }>(STATUS, { refId: identification.refId });
      if (order?.status !== 'IDENTIFICATION_DONE' && order?.status !== 'DATA_READY') await report(profile, identification, 'IDENTIFICATION_DONE');
      if (order?.status !== 'DATA_READY') await report(profile, identification, 'DATA_READY');
      const { importEvidence: result } = await apiFor(profile).graphql<{ importEvidence: { userErrors: Array<{ message: string }> } }>(IMPORT, {
        input: {
          refId: identification.refId,
          mobileNumber: evidence.mobileNumber,
          subject: { givenNames: evidence.givenNames, surname: evidence.surname, dateOfBirth: evidence.dateOfBirth, nationality: evidence.nationality || null },
          document: profile.issuer === 'KLARNA'
            ? { type: 'BANK_ACCOUNT', issuingCountry: evidence.nationality || null }
            : { type: 'ID_CARD', number: `C${randomBytes(4).toString('hex').toUpperCase()}`, issuingCountry: evidence.nationality || null, validUntil: null },
          identifiedAt: new Date().toISOString(),
          termsAcceptedInApp: profile.termsInApp ?? false,
        },
      });
      if (result.userErrors.length) throw new Error(result.userErrors.map((error) => error.message).join('; '));
    } else {
      await report(profile, identification, outcome, reason);
    }
    if (outcome !== 'ABORTED') await prisma.simulatedIdentification.update({ where: { id: identification.id }, data: { closed: true } });
  }

  /** The evidence to import, or the names of the mandatory fields still empty. */
  function evidenceFrom(identification: SimulatedIdentification, form: Record<string, string>): EvidenceFields | { missing: string[] } {
    const initial = initialDataOf(identification);
    const fields = {
      givenNames: form.givenNames?.trim() || initial.givenNames || '',
      surname: form.surname?.trim() || initial.surname || '',
      dateOfBirth: form.dateOfBirth?.trim() || initial.dateOfBirth || '',
      mobileNumber: form.mobileNumber?.trim() || initial.mobileNumber || '',
      nationality: form.nationality?.trim() || initial.nationality || initial.country || undefined,
    };
    const missing = (['givenNames', 'surname', 'dateOfBirth', 'mobileNumber'] as const).filter((key) => !fields[key]);
    return missing.length ? { missing } : fields;
  }

  // ---- the partner's API, called by SRS ------------------------------------------------------

  async function openOrder(profile: PartnerProfile, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const body = (await readJson(request)) as { refId?: string; language?: string | null; initialData?: InitialIdentityData };
    const token = bearer(request);
    if (!body?.refId || !(await tokenFits(profile, token, body.refId))) return sendJson(response, 401, { error: 'invalid order token' });
    const newId = `${profile.slug.toUpperCase().replace(/[^A-Z]/g, '').slice(0, 4)}-${randomBytes(6).toString('hex').toUpperCase()}`;
    // Plain SQL: this runs for every order placed (see services/order-store.ts for why).
    // Idempotent per refId, as SRS needs of a partner: SRS opens an order again after a crash cut
    // the first opening short, with a fresh token; the partner answers with the order it already
    // has, now reached with that token.
    const now = new Date().toISOString();
    const [{ id }] = await options.database.query<{ id: string }>(
      `INSERT INTO "SimulatedIdentification" (id, issuer, "refId", "orderToken", language, "initialDataSealed", "createdAt", "updatedAt")
       VALUES ($1, $2, $3, $4, $5, $6, $7::timestamp, $7::timestamp)
       ON CONFLICT ("refId") DO UPDATE SET "orderToken" = EXCLUDED."orderToken", "updatedAt" = EXCLUDED."updatedAt"
       RETURNING id`,
      [newId, profile.issuer, body.refId, options.dataProtection.seal(token!), body.language ?? null, options.dataProtection.seal(body.initialData ?? {}), now],
    );
    const url = new URL(`${publicUrl}/ipsp/${profile.slug}/ident/${id}`);
    url.searchParams.set('token', token!);
    // Klarna's real URLs carry a long signed session blob; so do these.
    if (profile.longUrl) url.searchParams.set('session', randomBytes(480).toString('base64url'));
    sendJson(response, 201, { ipspOrderId: id, targetUrl: url.toString() });
  }

  async function cancelOrder(profile: PartnerProfile, id: string, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const identification = await prisma.simulatedIdentification.findUnique({ where: { id } });
    if (!identification || identification.issuer !== profile.issuer || bearer(request) !== tokenOf(identification)) return sendJson(response, 404, { error: 'unknown order' });
    await prisma.simulatedIdentification.update({ where: { id }, data: { closed: true } });
    response.writeHead(204).end();
  }

  /** Test mode only: applies an outcome without a browser (behind simulateIdentification). */
  async function simulate(profile: PartnerProfile, id: string, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const identification = await prisma.simulatedIdentification.findUnique({ where: { id } });
    if (!identification || identification.issuer !== profile.issuer || bearer(request) !== tokenOf(identification)) return sendJson(response, 404, { error: 'unknown order' });
    const body = (await readJson(request)) as { outcome?: SimulatedOutcome; reason?: string };
    if (!body?.outcome || !SIMULATED_OUTCOMES.includes(body.outcome)) return sendJson(response, 400, { error: 'unknown outcome' });
    // The order's initial data where it has some, sample values for the rest.
    const initial = initialDataOf(identification);
    const fields = { ...initial, nationality: initial.nationality || initial.country || undefined };
    await conclude(profile, identification, body.outcome, body.reason, {
      givenNames: fields.givenNames || 'Erika',
      surname: fields.surname || 'Muster',
      dateOfBirth: fields.dateOfBirth || '1990-01-01',
      mobileNumber: fields.mobileNumber || '+41791234567',
      nationality: fields.nationality,
    });
    sendJson(response, 200, { done: true });
  }

  // ---- the end user's pages --------------------------------------------------------------------

  const texts = (language: string) => translator(language, 'pages');
  const titleOf = (profile: PartnerProfile, language: string) => texts(language)(`simulator.partners.${profile.slug}.title`);

  /** A page of one sentence; `attributes` (testId, outcome, alert) mark it for people and scripts. */
  function sendMessage(response: http.ServerResponse, status: number, profile: PartnerProfile, language: string, message: string, attributes: Record<string, unknown> = {}): void {
    sendPage(response, status, { language, keyPrefix: 'simulator', template: 'message', title: titleOf(profile, language), data: { message, ...attributes } });
  }

  /**
   * Loads the identification behind a page and checks its token; answers the refusal itself, in
   * the order's language once the identification is known.
   */
  async function admit(
    profile: PartnerProfile,
    id: string,
    token: string | undefined,
    request: http.IncomingMessage,
    response: http.ServerResponse,
    countUse: boolean,
  ): Promise<SimulatedIdentification | undefined> {
    const identification = await prisma.simulatedIdentification.findUnique({ where: { id } });
    if (!identification || identification.issuer !== profile.issuer) {
      const language = pageLanguage(request);
      sendMessage(response, 404, profile, language, texts(language)('simulator.notFound'));
      return undefined;
    }
    const language = pageLanguage(request, identification.language);
    const t = texts(language);
    if (identification.closed) {
      sendMessage(response, 410, profile, language, t('simulator.ended'));
      return undefined;
    }
    if (!token || token !== tokenOf(identification) || !(await tokenFits(profile, token, identification.refId))) {
      sendMessage(response, 403, profile, language, t('simulator.notValid'));
      return undefined;
    }
    const now = new Date();
    if (profile.sessionSeconds && identification.startedAt && now.getTime() > identification.startedAt.getTime() + profile.sessionSeconds * 1000) {
      sendMessage(response, 410, profile, language, t('simulator.sessionExpired'));
      return undefined;
    }
    if (!countUse) return identification;
    const updated = await prisma.simulatedIdentification.update({
      where: { id },
      data: { uses: { increment: 1 }, startedAt: identification.startedAt ?? now },
    });
    if (profile.maxUses && updated.uses > profile.maxUses) {
      const timedOut = profile.issuer === 'NECT';
      const reason = timedOut ? 'Timeout' : `The link was used more than ${profile.maxUses} times`;
      await conclude(profile, updated, timedOut ? 'ERROR' : 'NEGATIVELY_CONDUCTED', reason, { givenNames: '', surname: '', dateOfBirth: '', mobileNumber: '' });
      sendMessage(response, 410, profile, language, timedOut ? t('simulator.timedOut') : t('simulator.usedUp', { count: profile.maxUses }));
      return undefined;
    }
    return updated;
  }

  /** Where the identification form is sent and what it carries besides the person's fields. */
  interface FormTarget {
    action: string;
    hidden: Record<string, string>;
  }

  function sendIdentificationPage(
    response: http.ServerResponse,
    status: number,
    profile: PartnerProfile,
    identification: SimulatedIdentification,
    language: string,
    target: FormTarget,
    notice?: string,
    entered: Record<string, string> = {},
  ): void {
    const t = texts(language);
    const initial = initialDataOf(identification);
    const initialValues: Record<string, string | undefined> = { ...initial, nationality: initial.nationality ?? initial.country };
    const outcomes = (profile.anyOutcome ? SIMULATED_OUTCOMES : PERSON_OUTCOMES.map((choice) => choice.outcome)).map((outcome) => ({
      outcome,
      label: t(profile.anyOutcome ? `simulator.testOutcomes.${outcome}` : `simulator.outcomes.${outcome}`),
    }));
    sendPage(response, status, {
      language,
      keyPrefix: 'simulator',
      template: 'identification',
      title: profile.inPerson ? t('simulator.desk.title', { partner: titleOf(profile, language) }) : titleOf(profile, language),
      data: {
        notice,
        steps: t(`simulator.partners.${profile.slug}.steps`),
        idLabel: t(profile.inPerson ? 'simulator.registrationCode' : 'simulator.order'),
        id: identification.id,
        refId: identification.refId,
        createdAt: formatDateTime(language, identification.createdAt),
        uses: identification.uses,
        maxUses: profile.maxUses,
        action: target.action,
        hidden: target.hidden,
        fields: EVIDENCE_FIELDS.map((field) => ({
          ...field,
          value: entered[field.name] ?? initialValues[field.name] ?? '',
          // At the desk the agent types someone else's data: the browser must not offer the agent's own.
          autocomplete: profile.inPerson ? 'off' : field.autocomplete,
        })),
        reason: entered.reason ?? '',
        outcomes,
      },
    });
  }

  async function showIdentification(profile: PartnerProfile, id: string, url: URL, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const token = url.searchParams.get('token') ?? undefined;
    if (profile.inPerson) {
      const identification = await admit(profile, id, token, request, response, false);
      if (!identification) return;
      const language = pageLanguage(request, identification.language);
      return sendPage(response, 200, {
        language,
        keyPrefix: 'simulator',
        template: 'in-person',
        title: titleOf(profile, language),
        data: { steps: texts(language)(`simulator.partners.${profile.slug}.steps`), id: identification.id, deskUrl: `${publicUrl}/ipsp/${profile.slug}/agent` },
      });
    }
    const identification = await admit(profile, id, token, request, response, true);
    if (!identification) return;
    const language = pageLanguage(request, identification.language);
    sendIdentificationPage(response, 200, profile, identification, language, { action: `${publicUrl}/ipsp/${profile.slug}/ident/${identification.id}`, hidden: { token: token! } });
  }

  /**
   * Applies the outcome a form chose: the person's own (identification page) or the agent's
   * (agent desk). `again` shows the form once more, with a notice, when something is missing.
   */
  async function applyChosenOutcome(
    profile: PartnerProfile,
    identification: SimulatedIdentification,
    form: Record<string, string>,
    language: string,
    response: http.ServerResponse,
    again: (status: number, notice: string) => void,
  ): Promise<void> {
    const t = texts(language);
    const outcome = form.outcome as SimulatedOutcome;
    if (!SIMULATED_OUTCOMES.includes(outcome) || (outcome === 'TIMEOUT' && !profile.anyOutcome)) return again(400, t('simulator.chooseOutcome'));
    const evidence = evidenceFrom(identification, form);
    if (outcome === 'SUCCESS' && 'missing' in evidence) {
      return again(400, t('simulator.fillIn', { fields: formatList(language, evidence.missing.map((name) => t(`simulator.fields.${name}`))) }));
    }
    const reason = form.reason?.trim() || PERSON_OUTCOMES.find((choice) => choice.outcome === outcome)?.reason;
    try {
      await conclude(profile, identification, outcome, reason, evidence as EvidenceFields);
    } catch (error) {
      // The service's own message (API text, in English) says what to correct.
      return again(422, t('simulator.notAccepted', { message: (error as Error).message }));
    }
    sendMessage(response, 200, profile, language, t(`simulator.results.${outcome}`), { testId: 'result', outcome });
  }

  async function submitIdentification(profile: PartnerProfile, id: string, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const form = await readForm(request);
    const identification = await admit(profile, id, form.token, request, response, false);
    if (!identification) return;
    const language = pageLanguage(request, identification.language);
    const target = { action: `${publicUrl}/ipsp/${profile.slug}/ident/${identification.id}`, hidden: { token: form.token } };
    await applyChosenOutcome(profile, identification, form, language, response, (status, notice) =>
      sendIdentificationPage(response, status, profile, identification, language, target, notice, form),
    );
  }

  // ---- the agent desk (in-person partners): only for the partner's staff -----------------------

  /**
   * The desk's forms carry this proof that the desk itself issued them for this code and this
   * agent: a browser sends stored Basic credentials with any site's form, so a form from
   * elsewhere must not be able to conclude a registration.
   */
  const deskFormProof = (profile: PartnerProfile, clientId: string, code: string) =>
    createHmac('sha256', options.secrets.get(profile.issuer)!).update(`agent-desk-form\n${clientId}\n${code}`).digest('base64url');

  function proofMatches(expected: string, presented: string | undefined): boolean {
    const a = Buffer.from(expected);
    const b = Buffer.from(presented ?? '');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** The agent's client id, or undefined after answering 401 (no or wrong credentials). */
  async function deskAgent(profile: PartnerProfile, request: http.IncomingMessage, response: http.ServerResponse): Promise<string | undefined> {
    const clientId = await partnerCredentials(prisma, profile.issuer, request.headers.authorization);
    if (clientId) return clientId;
    const language = pageLanguage(request);
    response.setHeader('www-authenticate', `Basic realm="${profile.issuer} agent desk", charset="UTF-8"`);
    sendMessage(response, 401, profile, language, texts(language)('simulator.desk.signIn'), { alert: true });
    return undefined;
  }

  async function openRegistration(profile: PartnerProfile, code: string): Promise<SimulatedIdentification | undefined> {
    // No code holds NUL, and PostgreSQL refuses it in a query (the desk would answer 502).
    if (!code || code.includes('\u0000')) return undefined;
    const identification = await prisma.simulatedIdentification.findUnique({ where: { id: code } });
    return identification && identification.issuer === profile.issuer && !identification.closed ? identification : undefined;
  }

  function deskTarget(profile: PartnerProfile, clientId: string, code: string): FormTarget {
    return { action: `${publicUrl}/ipsp/${profile.slug}/agent`, hidden: { code, proof: deskFormProof(profile, clientId, code) } };
  }

  /** The agent's own language (the browser's), not the person's. */
  async function agentDesk(profile: PartnerProfile, url: URL, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const clientId = await deskAgent(profile, request, response);
    if (!clientId) return;
    const language = pageLanguage(request);
    const code = (url.searchParams.get('code') ?? '').trim().toUpperCase();
    const lookup = (status: number, notice?: string) =>
      sendPage(response, status, {
        language,
        keyPrefix: 'simulator',
        template: 'agent-desk',
        title: texts(language)('simulator.desk.title', { partner: titleOf(profile, language) }),
        data: { code, notice },
      });
    if (!code) return lookup(200);
    const identification = await openRegistration(profile, code);
    if (!identification) return lookup(404, texts(language)('simulator.desk.unknownCode'));
    sendIdentificationPage(response, 200, profile, identification, language, deskTarget(profile, clientId, code));
  }

  async function submitAtDesk(profile: PartnerProfile, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const clientId = await deskAgent(profile, request, response);
    if (!clientId) return;
    const language = pageLanguage(request);
    const form = await readForm(request);
    const code = (form.code ?? '').trim().toUpperCase();
    if (!code || !proofMatches(deskFormProof(profile, clientId, code), form.proof)) {
      return sendMessage(response, 403, profile, language, texts(language)('simulator.desk.formExpired'), { alert: true });
    }
    const identification = await openRegistration(profile, code);
    if (!identification) return sendMessage(response, 404, profile, language, texts(language)('simulator.desk.unknownCode'), { alert: true });
    await applyChosenOutcome(profile, identification, form, language, response, (status, notice) =>
      sendIdentificationPage(response, status, profile, identification, language, deskTarget(profile, clientId, code), notice, form),
    );
  }

  return {
    async handle(request, response) {
      const url = new URL(request.url ?? '/', 'http://local');
      const match = /^\/ipsp\/([a-z-]+)\/(api\/orders(?:\/([A-Z0-9-]+)\/(cancel|simulate))?|ident\/([A-Z0-9-]+)|agent)\/?$/.exec(url.pathname);
      const profile = match && partnerBySlug(match[1]);
      if (!match || !profile || (profile.anyOutcome && !options.testMode) || options.simulates?.(profile.issuer) === false) return false;
      const [, , route, apiId, apiAction, identId] = match;
      try {
        if (route === 'api/orders' && request.method === 'POST') await openOrder(profile, request, response);
        else if (apiAction === 'cancel' && request.method === 'POST') await cancelOrder(profile, apiId, request, response);
        else if (apiAction === 'simulate' && request.method === 'POST' && profile.anyOutcome) await simulate(profile, apiId, request, response);
        else if (identId && request.method === 'GET') await showIdentification(profile, identId, url, request, response);
        // In a shop only the agent concludes, at the desk: the person's link cannot.
        else if (identId && request.method === 'POST' && !profile.inPerson) await submitIdentification(profile, identId, request, response);
        else if (route === 'agent' && request.method === 'GET' && profile.inPerson) await agentDesk(profile, url, request, response);
        else if (route === 'agent' && request.method === 'POST' && profile.inPerson) await submitAtDesk(profile, request, response);
        else sendJson(response, 405, { error: 'method not allowed' });
      } catch (error) {
        if (error instanceof ClientRequestError && error.status === 413 && !response.headersSent) {
          // The sender's mistake, not the partner's failure: a page in the reader's language.
          request.resume();
          const language = pageLanguage(request);
          sendMessage(response, 413, profile, language, texts(language)('simulator.tooLarge'), { alert: true });
          return true;
        }
        // Any other fault of the client (a body cut off): answered by the server's route errors.
        if (error instanceof ClientRequestError) throw error;
        log().error({ err: error, issuer: profile.issuer, method: request.method, path: url.pathname }, 'a partner simulator failed');
        if (!response.headersSent) {
          const language = pageLanguage(request);
          sendMessage(response, 502, profile, language, texts(language)('simulator.partnerFailed'));
        }
      }
      return true;
    },
  };
}

function bearer(request: http.IncomingMessage): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

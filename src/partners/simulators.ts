// Built-in simulators of every partner of the catalogue, served by the service itself under
// /ipsp/<partner>/. Each behaves like a real IPSP: it receives orders over HTTP, checks order
// tokens by introspection, shows the end user a page to walk through, and reports back through
// the public GraphQL API with its own client credentials.
import { createHmac, randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { PrismaClient, SimulatedIdentification } from '../generated/prisma/client.js';
import { hashClientSecret } from '../auth/clients.js';
import type { InitialIdentityData } from '../domain/initial-data.js';
import { createSrsApiClient, type SrsApiClient } from './srs-api-client.js';
import type { DataProtection } from '../crypto/data-protection.js';
import type { SqlRunner } from '../db/adapter.js';
import { escapeHtml, readForm, readJson, sendHtml, sendJson, page } from './http-helpers.js';
import { ClientRequestError } from '../http/errors.js';
import { log } from '../observability/log.js';

export interface PartnerProfile {
  issuer: string;
  slug: string;
  title: string;
  /** What the person does at this partner, shown on the page. */
  steps: string;
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
  { issuer: 'IDENTITY.TM', slug: 'identity-tm', title: 'IDENTITY.TM video identification', steps: 'An agent checks your ID document in a video call.' },
  { issuer: 'KLARNA', slug: 'klarna', title: 'Klarna bank identification', steps: 'Log in to your bank; your account holder data identifies you.', maxUses: 5, sessionSeconds: 3600, longUrl: true },
  { issuer: 'IDENTITY-TM-EID', slug: 'identity-tm-eid', title: 'IDENTITY.TM eID', steps: 'Hold your ID card with chip to your phone.' },
  { issuer: 'NECT', slug: 'nect', title: 'Nect robo-ident', steps: 'Record a selfie video and your document in the Nect app; accept the T&C in the app.', maxUses: 6, termsInApp: true },
  { issuer: 'INTRUM-VIDEO', slug: 'intrum-video', title: 'Intrum video identification', steps: 'An Intrum agent checks your document in a video call (Mon-Sat 07:00-22:00).' },
  { issuer: 'INTRUM-AUTOIDENT', slug: 'intrum-autoident', title: 'Intrum auto-ident', steps: 'Photograph your document and take a selfie in the browser.' },
  { issuer: 'SWISSCOM-RA', slug: 'swisscom-ra', title: 'Registration in a Swisscom shop', steps: 'Show this registration code and your ID document to an agent in a Swisscom shop.', inPerson: true },
  { issuer: 'TEST', slug: 'test', title: 'TEST identification (simulated)', steps: 'Pick the outcome the order should have.', anyOutcome: true },
];

export const SIMULATED_OUTCOMES = ['SUCCESS', 'NEGATIVELY_CONDUCTED', 'ERROR', 'TIMEOUT', 'CANCELED', 'ABORTED'] as const;
export type SimulatedOutcome = (typeof SIMULATED_OUTCOMES)[number];

const PERSON_OUTCOMES: ReadonlyArray<{ outcome: SimulatedOutcome; label: string; reason?: string }> = [
  { outcome: 'SUCCESS', label: 'Identification succeeds' },
  { outcome: 'NEGATIVELY_CONDUCTED', label: 'Document rejected', reason: 'Document not valid' },
  { outcome: 'ERROR', label: 'Technical problem', reason: 'Camera or microphone not usable' },
  { outcome: 'CANCELED', label: 'Cancel the identification', reason: 'Canceled by the user' },
  { outcome: 'ABORTED', label: 'Leave for now (come back later)', reason: 'User left the identification' },
];

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

/**
 * Creates (or refreshes) the IPSP clients of the simulators. Their secrets derive from a master
 * secret kept in the database, so every process knows them without storing them in clear.
 */
export async function ensureSimulatorClients(prisma: PrismaClient): Promise<Map<string, string>> {
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
      secretHash: hashClientSecret(secret),
    };
    // An operator may disable a simulator (clients disable sim-…); a restart keeps it so.
    await prisma.client.upsert({ where: { id: simulatorClientId(profile) }, create: { id: simulatorClientId(profile), ...data }, update: data });
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
}): Simulators {
  const { prisma, publicUrl } = options;
  const initialDataOf = (identification: SimulatedIdentification) => options.dataProtection.open<InitialIdentityData>(identification.initialDataSealed);
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

  function evidenceFrom(identification: SimulatedIdentification, form: Record<string, string>): EvidenceFields | string {
    const initial = initialDataOf(identification);
    const fields = {
      givenNames: form.givenNames?.trim() || initial.givenNames || '',
      surname: form.surname?.trim() || initial.surname || '',
      dateOfBirth: form.dateOfBirth?.trim() || initial.dateOfBirth || '',
      mobileNumber: form.mobileNumber?.trim() || initial.mobileNumber || '',
      nationality: form.nationality?.trim() || initial.nationality || initial.country || undefined,
    };
    const missing = (['givenNames', 'surname', 'dateOfBirth', 'mobileNumber'] as const).filter((key) => !fields[key]);
    return missing.length ? `Please fill in: ${missing.join(', ')}.` : fields;
  }

  // ---- the partner's API, called by SRS ------------------------------------------------------

  async function openOrder(profile: PartnerProfile, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const body = (await readJson(request)) as { refId?: string; language?: string | null; initialData?: InitialIdentityData };
    const token = bearer(request);
    if (!body?.refId || !(await tokenFits(profile, token, body.refId))) return sendJson(response, 401, { error: 'invalid order token' });
    const id = `${profile.slug.toUpperCase().replace(/[^A-Z]/g, '').slice(0, 4)}-${randomBytes(6).toString('hex').toUpperCase()}`;
    // Plain SQL: this runs for every order placed (see services/order-store.ts for why).
    const now = new Date().toISOString();
    await options.database.query(
      `INSERT INTO "SimulatedIdentification" (id, issuer, "refId", "orderToken", language, "initialDataSealed", "createdAt", "updatedAt")
       VALUES ($1, $2, $3, $4, $5, $6, $7::timestamp, $7::timestamp)`,
      [id, profile.issuer, body.refId, token!, body.language ?? null, options.dataProtection.seal(body.initialData ?? {}), now],
    );
    const url = new URL(`${publicUrl}/ipsp/${profile.slug}/ident/${id}`);
    url.searchParams.set('token', token!);
    // Klarna's real URLs carry a long signed session blob; so do these.
    if (profile.longUrl) url.searchParams.set('session', randomBytes(480).toString('base64url'));
    sendJson(response, 201, { ipspOrderId: id, targetUrl: url.toString() });
  }

  async function cancelOrder(profile: PartnerProfile, id: string, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const identification = await prisma.simulatedIdentification.findUnique({ where: { id } });
    if (!identification || identification.issuer !== profile.issuer || bearer(request) !== identification.orderToken) return sendJson(response, 404, { error: 'unknown order' });
    await prisma.simulatedIdentification.update({ where: { id }, data: { closed: true } });
    response.writeHead(204).end();
  }

  /** Test mode only: applies an outcome without a browser (behind simulateIdentification). */
  async function simulate(profile: PartnerProfile, id: string, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const identification = await prisma.simulatedIdentification.findUnique({ where: { id } });
    if (!identification || identification.issuer !== profile.issuer || bearer(request) !== identification.orderToken) return sendJson(response, 404, { error: 'unknown order' });
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

  /** Loads the identification behind a page and checks its token; answers the refusal itself. */
  async function admit(profile: PartnerProfile, id: string, token: string | undefined, response: http.ServerResponse, countUse: boolean): Promise<SimulatedIdentification | undefined> {
    const identification = await prisma.simulatedIdentification.findUnique({ where: { id } });
    if (!identification || identification.issuer !== profile.issuer) {
      sendHtml(response, 404, page(profile.title, '<p>There is no identification at this address.</p>'));
      return undefined;
    }
    if (identification.closed) {
      sendHtml(response, 410, page(profile.title, '<p>This identification has ended. Ask your service provider for a new link.</p>'));
      return undefined;
    }
    if (!token || token !== identification.orderToken || !(await tokenFits(profile, token, identification.refId))) {
      sendHtml(response, 403, page(profile.title, '<p>This link is not valid (any more). Ask your service provider for a new link.</p>'));
      return undefined;
    }
    const now = new Date();
    if (profile.sessionSeconds && identification.startedAt && now.getTime() > identification.startedAt.getTime() + profile.sessionSeconds * 1000) {
      sendHtml(response, 410, page(profile.title, '<p>Your session has expired.</p>'));
      return undefined;
    }
    if (!countUse) return identification;
    const updated = await prisma.simulatedIdentification.update({
      where: { id },
      data: { uses: { increment: 1 }, startedAt: identification.startedAt ?? now },
    });
    if (profile.maxUses && updated.uses > profile.maxUses) {
      const reason = profile.issuer === 'NECT' ? 'Timeout' : `The link was used more than ${profile.maxUses} times`;
      await conclude(profile, updated, profile.issuer === 'NECT' ? 'ERROR' : 'NEGATIVELY_CONDUCTED', reason, { givenNames: '', surname: '', dateOfBirth: '', mobileNumber: '' });
      sendHtml(response, 410, page(profile.title, `<p>${escapeHtml(reason)}. The identification has ended.</p>`));
      return undefined;
    }
    return updated;
  }

  function identificationPage(profile: PartnerProfile, identification: SimulatedIdentification, token: string, notice?: string, entered: Record<string, string> = {}): string {
    const initial = initialDataOf(identification);
    const outcomes = profile.anyOutcome
      ? SIMULATED_OUTCOMES.map((outcome) => ({ outcome, label: outcome.replace('_', ' ').toLowerCase(), reason: undefined as string | undefined }))
      : PERSON_OUTCOMES;
    const input = (name: string, label: string, value: string | undefined, type = 'text') =>
      `<label>${label} <input name="${name}" type="${type}" value="${escapeHtml(entered[name] ?? value ?? '')}"></label>`;
    const uses = profile.maxUses ? `<p class="meta">Opened ${identification.uses} of ${profile.maxUses} times.</p>` : '';
    return page(
      profile.title,
      `${notice ? `<p class="notice" role="alert">${escapeHtml(notice)}</p>` : ''}
      <p>${escapeHtml(profile.steps)}</p>
      <p class="meta">${profile.inPerson ? 'Registration code' : 'Order'}: <strong data-testid="ipsp-order-id">${escapeHtml(identification.id)}</strong> · Reference ${escapeHtml(identification.refId)}</p>${uses}
      <form method="post" action="${escapeHtml(`${publicUrl}/ipsp/${profile.slug}/ident/${identification.id}`)}">
        <input type="hidden" name="token" value="${escapeHtml(token)}">
        <fieldset><legend>Identity (as on the document)</legend>
          ${input('givenNames', 'Given names', initial.givenNames)}
          ${input('surname', 'Surname', initial.surname)}
          ${input('dateOfBirth', 'Date of birth', initial.dateOfBirth, 'date')}
          ${input('nationality', 'Nationality (e.g. CH)', initial.nationality ?? initial.country)}
          ${input('mobileNumber', 'Mobile number', initial.mobileNumber, 'tel')}
        </fieldset>
        <label>Reason (for a failure) <input name="reason" value="${escapeHtml(entered.reason ?? '')}"></label>
        <div class="outcomes">${outcomes
          .map((choice) => `<button type="submit" name="outcome" value="${choice.outcome}" data-testid="outcome-${choice.outcome}">${escapeHtml(choice.label)}</button>`)
          .join('\n')}</div>
      </form>`,
    );
  }

  async function showIdentification(profile: PartnerProfile, id: string, url: URL, response: http.ServerResponse): Promise<void> {
    if (profile.inPerson) {
      const identification = await admit(profile, id, url.searchParams.get('token') ?? undefined, response, false);
      if (!identification) return;
      return sendHtml(
        response,
        200,
        page(profile.title, `<p>${escapeHtml(profile.steps)}</p><p class="code">Registration code: <strong data-testid="ipsp-order-id">${escapeHtml(identification.id)}</strong></p>
        <p class="meta">Agents complete the registration at <a href="${escapeHtml(`${publicUrl}/ipsp/${profile.slug}/agent`)}">the agent desk</a>.</p>`),
      );
    }
    const token = url.searchParams.get('token') ?? undefined;
    const identification = await admit(profile, id, token, response, true);
    if (identification) sendHtml(response, 200, identificationPage(profile, identification, token!));
  }

  async function submitIdentification(profile: PartnerProfile, id: string, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const form = await readForm(request);
    const identification = await admit(profile, id, form.token, response, false);
    if (!identification) return;
    const outcome = form.outcome as SimulatedOutcome;
    if (!SIMULATED_OUTCOMES.includes(outcome) || (outcome === 'TIMEOUT' && !profile.anyOutcome)) {
      return sendHtml(response, 400, identificationPage(profile, identification, form.token, 'Choose one of the outcomes.', form));
    }
    const evidence = evidenceFrom(identification, form);
    if (outcome === 'SUCCESS' && typeof evidence === 'string') return sendHtml(response, 400, identificationPage(profile, identification, form.token, evidence, form));
    const reason = form.reason?.trim() || PERSON_OUTCOMES.find((choice) => choice.outcome === outcome)?.reason;
    try {
      await conclude(profile, identification, outcome, reason, evidence as EvidenceFields);
    } catch (error) {
      return sendHtml(response, 422, identificationPage(profile, identification, form.token, `The service did not accept this: ${(error as Error).message}`, form));
    }
    const messages: Record<SimulatedOutcome, string> = {
      SUCCESS: 'You have been identified. You will receive an SMS to accept the terms of the signing service.',
      NEGATIVELY_CONDUCTED: 'The identification was not successful.',
      ERROR: 'The identification could not be completed.',
      TIMEOUT: 'The identification timed out.',
      CANCELED: 'The identification was canceled.',
      ABORTED: 'You left the identification. You can come back with the same link.',
    };
    sendHtml(response, 200, page(profile.title, `<p data-testid="result" data-outcome="${outcome}">${messages[outcome]}</p>`));
  }

  async function agentDesk(profile: PartnerProfile, url: URL, response: http.ServerResponse): Promise<void> {
    const code = (url.searchParams.get('code') ?? '').trim().toUpperCase();
    const lookup = page(
      `${profile.title}: agent desk`,
      `<form method="get"><label>Registration code <input name="code" value="${escapeHtml(code)}" autofocus></label> <button type="submit">Open</button></form>`,
    );
    if (!code) return sendHtml(response, 200, lookup);
    const identification = await prisma.simulatedIdentification.findUnique({ where: { id: code } });
    if (!identification || identification.issuer !== profile.issuer || identification.closed) {
      return sendHtml(response, 404, lookup.replace('</main>', '<p class="notice" role="alert">No open registration has this code.</p></main>'));
    }
    sendHtml(response, 200, identificationPage(profile, identification, identification.orderToken));
  }

  return {
    async handle(request, response) {
      const url = new URL(request.url ?? '/', 'http://local');
      const match = /^\/ipsp\/([a-z-]+)\/(api\/orders(?:\/([A-Z0-9-]+)\/(cancel|simulate))?|ident\/([A-Z0-9-]+)|agent)\/?$/.exec(url.pathname);
      const profile = match && partnerBySlug(match[1]);
      if (!match || !profile || (profile.anyOutcome && !options.testMode)) return false;
      const [, , route, apiId, apiAction, identId] = match;
      try {
        if (route === 'api/orders' && request.method === 'POST') await openOrder(profile, request, response);
        else if (apiAction === 'cancel' && request.method === 'POST') await cancelOrder(profile, apiId, request, response);
        else if (apiAction === 'simulate' && request.method === 'POST' && profile.anyOutcome) await simulate(profile, apiId, request, response);
        else if (identId && request.method === 'GET') await showIdentification(profile, identId, url, response);
        else if (identId && request.method === 'POST') await submitIdentification(profile, identId, request, response);
        else if (route === 'agent' && request.method === 'GET' && profile.inPerson) await agentDesk(profile, url, response);
        else sendJson(response, 405, { error: 'method not allowed' });
      } catch (error) {
        // A body too large or cut off is the client's doing: answered by the server's route errors.
        if (error instanceof ClientRequestError) throw error;
        log().error({ err: error, issuer: profile.issuer, method: request.method, path: url.pathname }, 'a partner simulator failed');
        if (!response.headersSent) sendHtml(response, 502, page(profile.title, '<p>The partner could not complete this step. Try again later.</p>'));
      }
      return true;
    },
  };
}

function bearer(request: http.IncomingMessage): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

// The commercial SRS's REST routes, replayed end to end over HTTP as its integration samples
// send them: a token with the credentials in the query string, the method list, an order, the
// TEST partner's identification, the T&C by SMS link, the identification's status, lookup and
// verify (also with a wrong name). Then every refusal: JSON with a code, never a 500. And the
// access log of the real entry point, which must not hold the query string's secret.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, freePort, runCli, startTestService, type TestClient, type TestService } from '../kit.js';
import { setClientRateLimit } from '../../src/auth/client-store.js';

const PROVIDER = 'application/vnd.sc.miss.provider.v1+json';
const EVIDENCE = 'application/vnd.sc.ras.evidence.v1+json';
const projectDir = fileURLToPath(new URL('../..', import.meta.url));
const openApi = JSON.parse(fs.readFileSync(path.join(projectDir, 'docs/rest-api.openapi.json'), 'utf8')) as { paths: Record<string, Record<string, unknown>> };

let srs: TestService;
let sp: TestClient;
let token: string;

beforeAll(async () => {
  srs = await startTestService();
  sp = await srs.createClient('SERVICE_PROVIDER');
});
afterAll(async () => {
  await srs?.stop();
});

interface Answer {
  status: number;
  contentType: string | null;
  headers: Headers;
  body: Record<string, unknown> & { code?: string; message?: string; field?: string };
}

async function call(method: string, pathAndQuery: string, options: { token?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string>; mediaType?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  const bearer = options.token === undefined ? token : options.token;
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (options.mediaType) {
    headers['content-type'] ??= options.mediaType;
    headers.accept ??= options.mediaType;
  }
  const response = await fetch(`${srs.url}${pathAndQuery}`, {
    method,
    headers,
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  let body: Answer['body'];
  try {
    body = JSON.parse(text) as Answer['body'];
  } catch {
    throw new Error(`${method} ${pathAndQuery}: ${response.status}, not JSON: ${text.slice(0, 200)}`);
  }
  return { status: response.status, contentType: response.headers.get('content-type'), headers: response.headers, body };
}

function tokenPath(client: TestClient, scope = 'miss'): string {
  const query = new URLSearchParams({ client_id: client.clientId, client_secret: client.clientSecret, grant_type: 'client_credentials', scope });
  return `/oauth/token?${query}`;
}

/** A Swiss mobile number no other test uses. */
const freshMobile = () => `+4179${randomInt(1_000_000, 10_000_000)}`;

const max = (mobile: string) => ({
  country: 'RO',
  dob: '1985-07-14',
  email: 'max.maximus@example.com',
  externalId: 'customer-4711',
  firstName: 'Max',
  language: 'en',
  lastName: 'Maximus',
  mobile,
});

async function placeTestOrder(body: Record<string, unknown>) {
  const placed = await call('POST', '/api/providers/Test/Video', { body, mediaType: PROVIDER });
  expect(placed.status, JSON.stringify(placed.body)).toBe(201);
  return placed.body as { refId: string; status: string; targetUrl: string };
}

/** The TEST partner concludes the identification, as the GraphQL tests have it do. */
async function simulateSuccess(refId: string): Promise<void> {
  const response = await srs.graphql<{ simulateIdentification: { order: { status: string } | null; userErrors: unknown[] } }, unknown>(
    'mutation($input: SimulateIdentificationInput!) { simulateIdentification(input: $input) { order { status } userErrors { code message } } }',
    { variables: { input: { refId, outcome: 'SUCCESS' } }, token },
  );
  expect(response.errors).toBeUndefined();
  expect(response.data!.simulateIdentification.userErrors).toEqual([]);
  expect(response.data!.simulateIdentification.order!.status).toBe('TERMINATED');
}

/** The end user accepts the T&C through the link of the SMS sent to `mobile`. */
async function acceptTermsBySms(mobile: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let link: string | undefined;
  while (!link) {
    const sent = (await (await fetch(`${srs.url}/dev/sms`)).json()) as Array<{ to: string; text: string }>;
    link = /http:\S+\/terms\/[A-Za-z0-9_-]+/.exec(sent.find((sms) => sms.to === mobile)?.text ?? '')?.[0];
    if (!link && Date.now() > deadline) throw new Error(`No T&C SMS to ${mobile} within 15 s`);
    if (!link) await sleep(100);
  }
  const decided = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'decision=accept' });
  expect(decided.status).toBe(200);
}

describe('the commercial SRS flow, replayed', () => {
  it('token in the query string -> providers -> order -> identification -> status -> lookup -> verify', async () => {
    // 1. Token: the credentials in the query string, no body; `miss` = every scope of the client.
    const issued = await call('POST', tokenPath(sp), { token: null });
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
    expect(String(issued.body.scope).split(' ').sort()).toEqual(['billing', 'methods:read', 'orders:read', 'orders:write', 'verify']);
    token = String(issued.body.access_token);

    // 2. Methods for EIDAS at LOA3 by video: the same list as the GraphQL filter answers.
    const providers = await call('GET', '/api/providers?jurisdiction=EIDAS&loa=3&method=video', { headers: { accept: PROVIDER } });
    expect(providers.status).toBe(200);
    expect(providers.contentType).toContain(PROVIDER);
    const listed = (providers.body as unknown as Array<{ issuer: string; method: string; methodType: string }>).map((entry) => `${entry.issuer}/${entry.method}`);
    const viaGraphql = await srs.graphql<{ identificationMethods: Array<{ issuer: string; name: string }> }, unknown>(
      '{ identificationMethods(filter: { jurisdictions: [EIDAS], loa: LOA3, methodTypes: [VIDEO] }) { issuer name } }',
      { token },
    );
    expect(listed).toEqual(viaGraphql.data!.identificationMethods.map((method) => `${method.issuer}/${method.name}`));
    expect(listed).toEqual(['IDENTITY.TM/video', 'INTRUM-VIDEO/video', 'TEST/video']);

    // 3. The order, with the commercial body and media type; the answer carries the refId.
    const mobile = freshMobile();
    const order = await placeTestOrder(max(mobile));
    expect(order).toMatchObject({ refId: expect.stringMatching(/^SRS-/), status: 'INITIALIZED', targetUrl: expect.stringContaining('/ipsp/test/') });

    // 4. The identification, through the TEST partner, and the T&C through the SMS link.
    await simulateSuccess(order.refId);
    await acceptTermsBySms(mobile);

    // 5. The identification's status: issuer, method, mobile number and every status.
    const identification = await call('GET', `/api/identifications/${order.refId}`);
    expect(identification.status).toBe(200);
    expect(identification.body).toMatchObject({
      refId: order.refId,
      issuer: 'TEST',
      method: 'video',
      mobile,
      externalId: 'customer-4711',
      status: 'TERMINATED',
      evidenceId: expect.any(String),
    });
    expect((identification.body.statuses as Array<{ status: string }>).map((entry) => entry.status)).toEqual(['CREATED', 'INITIALIZED', 'IDENTIFICATION_DONE', 'DATA_READY', 'TERMINATED']);

    // 6. lookup by number alone (an MSISDN without its +).
    const lookup = await call('POST', '/api/evidences/lookup', { body: { msisdn: mobile.slice(1) }, mediaType: EVIDENCE });
    expect(lookup.status).toBe(200);
    expect(lookup.contentType).toContain(EVIDENCE);
    expect(lookup.body).toMatchObject({ valid: true, reason: 'OK', evidenceId: identification.body.evidenceId });

    // 7. verify with the distinguished name of the integration samples.
    const verifyBody = (dn: string) => ({ jurisdiction: 'zertes', distinguishedName: dn, msisdn: mobile, assuranceLevel: '4' });
    const verified = await call('POST', '/api/evidences/verify', { body: verifyBody('cn=Max Maximus, givenname=Max, surname=Maximus, c=RO'), mediaType: EVIDENCE });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ valid: true, reason: 'OK', evidenceId: identification.body.evidenceId });
    expect(verified.body.capabilities).toEqual(expect.arrayContaining([{ jurisdiction: 'ZERTES', loa: 'LOA4' }]));

    // 8. A wrong name is answered as not verified, not as an error.
    const wrongName = await call('POST', '/api/evidences/verify', { body: verifyBody('cn=Max Mustermann, givenname=Max, surname=Mustermann, c=RO'), mediaType: EVIDENCE });
    expect(wrongName.status).toBe(200);
    expect(wrongName.body).toMatchObject({ valid: false, reason: 'NAME_MISMATCH' });
  });

  it('filters: as headers too, jurisdictions in any case and as EU / CH, several issuers', async () => {
    const byQuery = await call('GET', '/api/providers?jurisdiction=EIDAS&loa=3&method=video');
    for (const headers of [{ jurisdiction: 'EIDAS', loa: '3', method: 'video' }, { jurisdiction: 'eIdAs', loa: 'LOA3', method: 'VIDEO' }, { jurisdiction: 'eu', loa: '3', method: 'Video' }]) {
      const byHeaders = await call('GET', '/api/providers', { headers });
      expect(byHeaders.status).toBe(200);
      expect(byHeaders.body).toEqual(byQuery.body);
    }
    const twoIssuers = await call('GET', '/api/providers?issuer=klarna,nect');
    expect((twoIssuers.body as unknown as Array<{ issuer: string }>).map((entry) => entry.issuer)).toEqual(['KLARNA', 'NECT']);
    const zertesLoa4 = await call('GET', '/api/providers?jurisdiction=zertes&loa=4');
    expect((zertesLoa4.body as unknown as Array<{ issuer: string }>).map((entry) => entry.issuer)).toEqual(['INTRUM-VIDEO', 'INTRUM-AUTOIDENT', 'SWISSCOM-RA', 'TEST']);
    const unknownIssuer = await call('GET', '/api/providers?issuer=nobody');
    expect(unknownIssuer).toMatchObject({ status: 200, body: [] });
  });

  it('issuer and method of the path: method names and the guide\'s type names, in any case', async () => {
    // eID is IDENTITY-TM-EID's method as the guide names it; robo-ident is NECT's.
    for (const [issuer, method] of [['identity-tm-eid', 'eID'], ['NECT', 'robo-ident'], ['test', 'VIDEO']]) {
      const placed = await call('POST', `/api/providers/${issuer}/${method}`, {
        body: issuer === 'identity-tm-eid' ? { firstName: 'Max', lastName: 'Maximus', dob: '1985-07-14', mobile: freshMobile() } : {},
        mediaType: PROVIDER,
      });
      expect(placed.status, `${issuer}/${method}: ${JSON.stringify(placed.body)}`).toBe(201);
      expect(placed.body.issuer).toBe(issuer.toUpperCase());
    }
  });
});

describe('refusals: JSON with a code, never a 500', () => {
  beforeAll(async () => {
    token ??= String((await call('POST', tokenPath(sp), { token: null })).body.access_token);
  });

  it('the token route: wrong secret 401, unknown scope 400, GET 405, in the OAuth2 error format', async () => {
    const wrong = await call('POST', tokenPath({ ...sp, clientSecret: 'not-the-secret' }), { token: null });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    const badScope = await call('POST', tokenPath(sp, 'miss nonsense'), { token: null });
    expect(badScope.status).toBe(400);
    expect(badScope.body.error).toBe('invalid_scope');
    const narrow = await call('POST', tokenPath(sp, 'verify'), { token: null });
    expect(narrow.body.scope).toBe('verify');
    // The standard form body works here too.
    const form = await fetch(`${srs.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: sp.clientId, client_secret: sp.clientSecret }),
    });
    expect(form.status).toBe(200);
    expect((await call('GET', tokenPath(sp), { token: null })).status).toBe(405);
  });

  it('no token 401, a token without the scope 403, unknown routes 404', async () => {
    const anonymous = await call('GET', '/api/providers', { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('UNAUTHENTICATED');
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
    expect((await call('GET', '/api/providers', { token: 'forged' })).status).toBe(401);

    const verifyOnly = String((await call('POST', tokenPath(sp, 'verify'), { token: null })).body.access_token);
    const forbidden = await call('POST', '/api/providers/Test/Video', { token: verifyOnly, body: {}, mediaType: PROVIDER });
    expect(forbidden).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    const ipsp = await srs.createClient('IPSP', { issuer: 'TEST' });
    const ipspToken = String((await call('POST', tokenPath(ipsp), { token: null })).body.access_token);
    expect((await call('POST', '/api/providers/Test/Video', { token: ipspToken, body: {}, mediaType: PROVIDER })).status).toBe(403);

    for (const unknown of ['/api/nothing', '/api', '/api/providers/Test', '/api/evidences/lookup/more', '/oauth/authorize']) {
      const answer = await call('GET', unknown);
      expect(answer.status, unknown).toBe(404);
      expect(answer.body.code).toBe('NOT_FOUND');
    }
    expect((await call('DELETE', '/api/providers')).status).toBe(405);
  });

  it('malformed JSON 400, wrong media type 415, unacceptable Accept 406, bad filter 400', async () => {
    expect(await call('POST', '/api/providers/Test/Video', { rawBody: '{"firstName": ', mediaType: PROVIDER })).toMatchObject({ status: 400, body: { code: 'MALFORMED_JSON' } });
    expect(await call('POST', '/api/providers/Test/Video', { rawBody: '[1]', mediaType: PROVIDER })).toMatchObject({ status: 400, body: { code: 'MALFORMED_JSON' } });
    expect(await call('POST', '/api/evidences/lookup', { rawBody: 'msisdn=1', mediaType: EVIDENCE })).toMatchObject({ status: 400, body: { code: 'MALFORMED_JSON' } });
    expect(await call('POST', '/api/providers/Test/Video', { body: {}, headers: { 'content-type': 'text/plain' } })).toMatchObject({ status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    // Each route has its own media type: the evidence type is not the provider type.
    expect((await call('POST', '/api/providers/Test/Video', { body: {}, headers: { 'content-type': EVIDENCE } })).status).toBe(415);
    expect((await call('POST', '/api/evidences/lookup', { body: { msisdn: freshMobile() } })).status).toBe(415);
    expect((await call('POST', '/api/evidences/lookup', { body: { msisdn: freshMobile() }, mediaType: 'application/json' })).status).toBe(200);
    expect(await call('GET', '/api/providers', { headers: { accept: 'text/html' } })).toMatchObject({ status: 406, body: { code: 'NOT_ACCEPTABLE' } });
    expect(await call('GET', '/api/providers?jurisdiction=MARS')).toMatchObject({ status: 400, body: { code: 'INVALID_INPUT', field: 'jurisdiction' } });
    expect(await call('GET', '/api/providers?loa=5')).toMatchObject({ status: 400, body: { field: 'loa' } });
    expect(await call('GET', '/api/providers', { headers: { method: 'teleport' } })).toMatchObject({ status: 400, body: { field: 'method' } });
    const huge = await call('POST', '/api/evidences/lookup', { rawBody: JSON.stringify({ msisdn: 'x'.repeat(70_000) }), mediaType: EVIDENCE });
    expect(huge.status).toBe(413);
  });

  it('orders: the services\' refusals as 404 / 409 / 422, named by the REST fields', async () => {
    expect(await call('POST', '/api/providers/NOBODY/video', { body: {}, mediaType: PROVIDER })).toMatchObject({ status: 404, body: { code: 'METHOD_NOT_FOUND' } });
    expect(await call('POST', '/api/providers/KLARNA/video', { body: {}, mediaType: PROVIDER })).toMatchObject({ status: 404, body: { code: 'METHOD_NOT_FOUND' } });
    const missing = await call('POST', '/api/providers/KLARNA/bank', { body: { firstName: 'Max' }, mediaType: PROVIDER });
    expect(missing.status).toBe(422);
    expect(missing.body.code).toBe('MISSING_MANDATORY_ATTRIBUTE');
    expect((missing.body.errors as Array<{ field: string }>).map((error) => error.field).sort()).toEqual(['country', 'dob', 'lastName', 'mobile']);
    expect(await call('POST', '/api/providers/Test/Video', { body: { ...max(freshMobile()), dob: '31.12.1980' }, mediaType: PROVIDER })).toMatchObject({ status: 422, body: { code: 'INVALID_INPUT', field: 'dob' } });
    expect(await call('POST', '/api/providers/Test/Video', { body: { firstName: 42 }, mediaType: PROVIDER })).toMatchObject({ status: 422, body: { field: 'firstName' } });
    expect(await call('POST', '/api/providers/Test/Video', { body: { shoeSize: '44' }, mediaType: PROVIDER })).toMatchObject({ status: 422, body: { field: 'shoeSize' } });
    expect(await call('POST', '/api/providers/Test/Video', { body: { language: 'xx' }, mediaType: PROVIDER })).toMatchObject({ status: 422, body: { field: 'language' } });

    // Idempotency-Key: the same body answers the first order; another body conflicts.
    const key = randomBytes(8).toString('hex');
    const body = max(freshMobile());
    const first = await call('POST', '/api/providers/Test/Video', { body, mediaType: PROVIDER, headers: { 'idempotency-key': key } });
    const again = await call('POST', '/api/providers/Test/Video', { body, mediaType: PROVIDER, headers: { 'idempotency-key': key } });
    expect(again.body.refId).toBe(first.body.refId);
    const other = await call('POST', '/api/providers/Test/Video', { body: { ...body, externalId: 'other' }, mediaType: PROVIDER, headers: { 'idempotency-key': key } });
    expect(other).toMatchObject({ status: 409, body: { code: 'IDEMPOTENCY_CONFLICT' } });
  });

  it('the client\'s rate limit: 429 RATE_LIMITED with Retry-After and RateLimit headers, as on GraphQL', async () => {
    const limited = await srs.createClient('SERVICE_PROVIDER');
    // What `npx srs clients set-rate-limit` does.
    expect(await setClientRateLimit(srs.service.prisma, limited.clientId, 1)).toBe(true);
    const limitedToken = await srs.token(limited);
    const answers = await Promise.all(Array.from({ length: 12 }, () => call('GET', '/api/providers?jurisdiction=EIDAS', { token: limitedToken })));
    expect(answers.map((answer) => answer.status).filter((status) => status !== 200 && status !== 429)).toEqual([]);
    const refused = answers.find((answer) => answer.status === 429);
    expect(refused?.body).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused?.headers.get('ratelimit-limit')).toBe('1');
    // Another client is not affected.
    expect((await call('GET', '/api/providers?jurisdiction=EIDAS')).status).toBe(200);
  });

  it('identifications: unknown and other providers\' orders are 404', async () => {
    const mine = await placeTestOrder(max(freshMobile()));
    expect((await call('GET', `/api/identifications/${mine.refId}`)).body).toMatchObject({ status: 'INITIALIZED', mobile: expect.stringMatching(/^\+4179/) });
    expect(await call('GET', '/api/identifications/SRS-NOPE')).toMatchObject({ status: 404, body: { code: 'ORDER_NOT_FOUND' } });
    expect((await call('GET', '/api/identifications/%E0%A4%A')).status).toBe(404);
    const stranger = await srs.createClient('SERVICE_PROVIDER');
    const strangerToken = String((await call('POST', tokenPath(stranger), { token: null })).body.access_token);
    expect((await call('GET', `/api/identifications/${mine.refId}`, { token: strangerToken })).status).toBe(404);
  });

  it('lookup and verify: a number without evidence, bad numbers, names and levels', async () => {
    const nobody = await call('POST', '/api/evidences/lookup', { body: { msisdn: freshMobile() }, mediaType: EVIDENCE });
    expect(nobody).toMatchObject({ status: 200, body: { valid: false, reason: 'NO_EVIDENCE', evidenceId: null } });
    expect(await call('POST', '/api/evidences/lookup', { body: {}, mediaType: EVIDENCE })).toMatchObject({ status: 422, body: { field: 'msisdn' } });
    expect(await call('POST', '/api/evidences/lookup', { body: { msisdn: '12' }, mediaType: EVIDENCE })).toMatchObject({ status: 422, body: { code: 'INVALID_INPUT', field: 'msisdn' } });
    const verify = (extra: Record<string, unknown>) => call('POST', '/api/evidences/verify', { body: { msisdn: freshMobile(), distinguishedName: 'givenname=Max, surname=Maximus', ...extra }, mediaType: EVIDENCE });
    expect(await verify({ distinguishedName: 'cn=Max Maximus' })).toMatchObject({ status: 422, body: { field: 'distinguishedName' } });
    expect(await verify({ distinguishedName: 'just a name' })).toMatchObject({ status: 422, body: { field: 'distinguishedName' } });
    expect(await verify({ assuranceLevel: '7' })).toMatchObject({ status: 422, body: { field: 'assuranceLevel' } });
    expect(await verify({ jurisdiction: 'atlantis' })).toMatchObject({ status: 422, body: { field: 'jurisdiction' } });
    expect(await verify({ jurisdiction: 'EIDAS', assuranceLevel: 3 })).toMatchObject({ status: 200, body: { valid: false, reason: 'NO_EVIDENCE' } });
  });

  it('every route the OpenAPI document names is served (none answers 404 or 405); the document itself too', async () => {
    expect(await call('GET', '/api/openapi.json', { token: null })).toMatchObject({ status: 200, body: openApi });
    for (const [template, operations] of Object.entries(openApi.paths)) {
      const concrete = template.replace('{issuer}', 'TEST').replace('{method}', 'video').replace('{refId}', 'SRS-NOPE');
      for (const method of Object.keys(operations).filter((key) => key !== 'parameters')) {
        const answer = await call(method.toUpperCase(), concrete, { token: null });
        expect([404, 405], `${method} ${template}: ${JSON.stringify(answer.body)}`).not.toContain(answer.status);
      }
    }
  });
});

describe.skipIf(backend === 'postgres')('the access log of src/main.ts', () => {
  let child: ChildProcess | undefined;
  let dataDir: string | undefined;
  afterAll(async () => {
    if (child?.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('close', resolve));
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
    }
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  // A CLI run and a start of src/main.ts: slow on a busy machine.
  it('logs POST /oauth/token with its request id and without the query string or the secret', { timeout: 240_000 }, async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'srs-rest-log-'));
    const port = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'info', SRS_TEST_MODE: '0' };
    const created = await runCli(['clients', 'create', '--name', 'Log test', '--role', 'SERVICE_PROVIDER', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    const client = JSON.parse(created.stdout.trim().split('\n').pop()!) as TestClient;

    const { DATABASE_URL: _url, ...inherited } = process.env;
    child = spawn('npx', ['tsx', 'src/main.ts'], { cwd: projectDir, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    await expect.poll(() => output, { timeout: 150_000, interval: 200 }).toContain('listening');

    const attempts = [
      { requestId: `rest-ok-${randomInt(1e9)}`, client, status: 200 },
      { requestId: `rest-bad-${randomInt(1e9)}`, client: { ...client, clientSecret: `wrong-${randomBytes(12).toString('hex')}` }, status: 401 },
    ];
    for (const attempt of attempts) {
      const response = await fetch(`http://127.0.0.1:${port}${tokenPath(attempt.client)}`, { method: 'POST', headers: { 'x-request-id': attempt.requestId } });
      expect(response.status).toBe(attempt.status);
      expect(response.headers.get('x-request-id')).toBe(attempt.requestId);
      const lines = () =>
        output
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
      await expect.poll(() => lines().find((line) => line.requestId === attempt.requestId && line.msg === 'request completed')).toMatchObject({
        method: 'POST',
        path: '/oauth/token',
        status: attempt.status,
      });
      expect(output).not.toContain(attempt.client.clientSecret);
    }
    expect(output).not.toContain('client_secret');
  });
});

// The OAuth2 authorization server, through HTTP only: discovery, the client credentials grant (also
// with a standard client library), errors, revocation, introspection, expiry, restarts, disabled
// clients and how secrets are stored.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidcClient from 'openid-client';
import { graphql } from '../generated/index.js';
import { freshDatabaseEnv, startTestService, type TestClient, type TestService } from '../kit.js';
import { disableClient } from '../../src/auth/clients.js';

const ViewerQuery = graphql(`
  query OAuthViewer {
    viewer {
      clientId
      role
      scopes
    }
  }
`);

const SERVICE_PROVIDER_SCOPES = ['methods:read', 'orders:read', 'orders:write', 'verify', 'billing'];

function basicAuth(client: TestClient): string {
  return `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;
}

/** POSTs a form to an endpoint under /oidc, authenticated as the client when one is given. */
async function postForm(
  srs: TestService,
  path: string,
  form: Record<string, string>,
  client?: TestClient,
): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (client) headers.authorization = basicAuth(client);
  const response = await fetch(`${srs.url}/oidc${path}`, { method: 'POST', headers, body: new URLSearchParams(form) });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  if (text) body = JSON.parse(text) as Record<string, unknown>;
  return { status: response.status, body, text };
}

/** Asserts that GraphQL refuses the token as UNAUTHENTICATED. */
async function expectUnauthenticated(srs: TestService, token: string): Promise<void> {
  const response = await srs.graphql(ViewerQuery, { token });
  expect(response.status).toBe(401);
  expect(response.data ?? null).toBeNull();
  expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
}

/** Asserts that GraphQL accepts the token as the given client and returns the viewer. */
async function expectViewer(srs: TestService, token: string, client: TestClient) {
  const response = await srs.graphql(ViewerQuery, { token });
  expect(response.errors).toBeUndefined();
  expect(response.status).toBe(200);
  expect(response.data?.viewer.clientId).toBe(client.clientId);
  return response.data!.viewer;
}

const sorted = (scope: unknown) => String(scope).split(' ').sort();

describe('OAuth2 server', () => {
  let srs: TestService;
  let sp: TestClient;

  beforeAll(async () => {
    srs = await startTestService();
    sp = await srs.createClient('SERVICE_PROVIDER');
  });
  afterAll(() => srs?.stop());

  describe('discovery', () => {
    it('publishes the issuer and endpoints under /oidc with client_credentials', async () => {
      const response = await fetch(`${srs.url}/oidc/.well-known/openid-configuration`);
      expect(response.status).toBe(200);
      const metadata = (await response.json()) as Record<string, unknown>;
      expect(metadata.issuer).toBe(`${srs.url}/oidc`);
      expect(metadata.token_endpoint).toBe(`${srs.url}/oidc/token`);
      expect(metadata.introspection_endpoint).toBe(`${srs.url}/oidc/token/introspection`);
      expect(metadata.revocation_endpoint).toBe(`${srs.url}/oidc/token/revocation`);
      for (const endpoint of ['token_endpoint', 'introspection_endpoint', 'revocation_endpoint']) {
        expect(String(metadata[endpoint]).startsWith(`${srs.url}/oidc/`)).toBe(true);
      }
      expect(metadata.grant_types_supported).toContain('client_credentials');
    });
  });

  describe('a standard client library (openid-client)', () => {
    async function discover(client: TestClient): Promise<oidcClient.Configuration> {
      // The service registers its clients for client_secret_basic (openid-client defaults to _post).
      return oidcClient.discovery(new URL(`${srs.url}/oidc`), client.clientId, client.clientSecret, oidcClient.ClientSecretBasic(), {
        execute: [oidcClient.allowInsecureRequests],
      });
    }

    it('discovers the server and gets a token that works on GraphQL', async () => {
      const config = await discover(sp);
      expect(config.serverMetadata().issuer).toBe(`${srs.url}/oidc`);
      const tokens = await oidcClient.clientCredentialsGrant(config, { scope: 'methods:read orders:read' });
      expect(tokens.token_type.toLowerCase()).toBe('bearer');
      expect(tokens.expiresIn()).toBeGreaterThan(3590);
      expect(sorted(tokens.scope)).toEqual(['methods:read', 'orders:read']);
      const viewer = await expectViewer(srs, tokens.access_token, sp);
      expect(viewer.role).toBe('SERVICE_PROVIDER');
      expect([...viewer.scopes].sort()).toEqual(['methods:read', 'orders:read']);
    });

    it('gets every allowed scope when it asks for none', async () => {
      const tokens = await oidcClient.clientCredentialsGrant(await discover(sp));
      const viewer = await expectViewer(srs, tokens.access_token, sp);
      expect([...viewer.scopes].sort()).toEqual([...SERVICE_PROVIDER_SCOPES].sort());
    });

    it('surfaces a wrong secret as invalid_client', async () => {
      const config = await discover({ clientId: sp.clientId, clientSecret: 'not-the-secret' });
      const error = await oidcClient.clientCredentialsGrant(config).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      // A 401 with a WWW-Authenticate challenge: openid-client reports the challenge.
      expect(error).toBeInstanceOf(oidcClient.WWWAuthenticateChallengeError);
      const challengeError = error as oidcClient.WWWAuthenticateChallengeError;
      expect(challengeError.status).toBe(401);
      expect(challengeError.cause[0]?.parameters.error).toBe('invalid_client');
      expect(((await challengeError.response.json()) as { error: string }).error).toBe('invalid_client');
    });
  });

  describe('token response', () => {
    it('is an opaque Bearer token valid for 3600 seconds with every allowed scope by default', async () => {
      const { status, body } = await srs.requestToken(sp);
      expect(status).toBe(200);
      expect(typeof body.access_token).toBe('string');
      const token = body.access_token as string;
      expect(token.length).toBeGreaterThanOrEqual(32);
      expect(token).not.toContain('.');
      expect(body.token_type).toBe('Bearer');
      expect(body.expires_in).toBe(3600);
      expect(sorted(body.scope)).toEqual([...SERVICE_PROVIDER_SCOPES].sort());
      expect(body).not.toHaveProperty('refresh_token');
      expect(body).not.toHaveProperty('id_token');
      const viewer = await expectViewer(srs, token, sp);
      expect([...viewer.scopes].sort()).toEqual([...SERVICE_PROVIDER_SCOPES].sort());
    });

    it('grants exactly the requested subset', async () => {
      const { status, body } = await srs.requestToken(sp, 'verify methods:read');
      expect(status).toBe(200);
      expect(sorted(body.scope)).toEqual(['methods:read', 'verify']);
      const viewer = await expectViewer(srs, body.access_token as string, sp);
      expect([...viewer.scopes].sort()).toEqual(['methods:read', 'verify']);
    });

    it('issues a different token on every request', async () => {
      const [first, second] = await Promise.all([srs.token(sp), srs.token(sp)]);
      expect(first).not.toBe(second);
    });

    it('gives an IPSP its role scopes and an ADMIN every scope', async () => {
      const ipsp = await srs.createClient('IPSP', { issuer: 'TEST' });
      const ipspToken = await srs.requestToken(ipsp);
      expect(ipspToken.status).toBe(200);
      expect(sorted(ipspToken.body.scope)).toEqual(['ipsp', 'methods:read']);
      const ipspViewer = await expectViewer(srs, ipspToken.body.access_token as string, ipsp);
      expect(ipspViewer.role).toBe('IPSP');

      const admin = await srs.createClient('ADMIN');
      const adminToken = await srs.requestToken(admin);
      expect(adminToken.status).toBe(200);
      expect(sorted(adminToken.body.scope)).toEqual(
        ['admin', 'billing', 'ipsp', 'methods:read', 'orders:read', 'orders:write', 'verify'].sort(),
      );
      expect((await expectViewer(srs, adminToken.body.access_token as string, admin)).role).toBe('ADMIN');
    });
  });

  describe('token endpoint errors', () => {
    it('refuses a wrong secret with 401 invalid_client', async () => {
      const { status, body } = await srs.requestToken({ clientId: sp.clientId, clientSecret: `${sp.clientSecret}x` });
      expect(status).toBe(401);
      expect(body.error).toBe('invalid_client');
      expect(body).not.toHaveProperty('access_token');
    });

    it('refuses an unknown client id with 401 invalid_client', async () => {
      const { status, body } = await srs.requestToken({ clientId: 'srs_nobody', clientSecret: sp.clientSecret });
      expect(status).toBe(401);
      expect(body.error).toBe('invalid_client');
    });

    it('refuses a request without client authentication', async () => {
      // oidc-provider answers 400 invalid_request here (RFC 6749 § 5.2 would have 401 invalid_client).
      const { status, body } = await postForm(srs, '/token', { grant_type: 'client_credentials' });
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_request');
      expect(body).not.toHaveProperty('access_token');
    });

    it('refuses the password grant with 400 unsupported_grant_type', async () => {
      const { status, body } = await postForm(srs, '/token', { grant_type: 'password', username: 'a', password: 'b' }, sp);
      expect(status).toBe(400);
      expect(body.error).toBe('unsupported_grant_type');
    });

    it('refuses an unknown scope with 400 invalid_scope', async () => {
      const { status, body } = await srs.requestToken(sp, 'bogus');
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_scope');
    });

    it('refuses an unknown scope next to a valid one with 400 invalid_scope', async () => {
      const { status, body } = await srs.requestToken(sp, 'methods:read bogus');
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_scope');
    });

    it('refuses a scope the role may not have with 400 invalid_scope', async () => {
      const { status, body } = await srs.requestToken(sp, 'ipsp');
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_scope');
      const admin = await srs.requestToken(sp, 'methods:read admin');
      expect(admin.status).toBe(400);
      expect(admin.body.error).toBe('invalid_scope');
    });

    it('refuses a scope the role allows but the client was not given with 400 invalid_scope', async () => {
      const narrow = await srs.createClient('SERVICE_PROVIDER', { scopes: ['methods:read'] });
      const { status, body } = await srs.requestToken(narrow, 'billing');
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_scope');
      const granted = await srs.requestToken(narrow);
      expect(granted.status).toBe(200);
      expect(granted.body.scope).toBe('methods:read');
    });
  });

  describe('GraphQL bearer authentication', () => {
    it('refuses a missing or unknown token as UNAUTHENTICATED', async () => {
      const missing = await srs.graphql(ViewerQuery);
      expect(missing.status).toBe(401);
      expect(missing.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      await expectUnauthenticated(srs, 'not-a-token');
    });
  });

  describe('revocation (RFC 7009)', () => {
    it('revokes a token so that GraphQL refuses it', async () => {
      const token = await srs.token(sp);
      await expectViewer(srs, token, sp);
      const { status } = await postForm(srs, '/token/revocation', { token }, sp);
      expect(status).toBe(200);
      await expectUnauthenticated(srs, token);
    });

    it('answers 200 for a token it does not know', async () => {
      const { status } = await postForm(srs, '/token/revocation', { token: 'never-issued', token_type_hint: 'access_token' }, sp);
      expect(status).toBe(200);
    });

    it('needs client authentication', async () => {
      const token = await srs.token(sp);
      const { status, body } = await postForm(srs, '/token/revocation', { token });
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_request');
      const wrong = await postForm(srs, '/token/revocation', { token }, { clientId: sp.clientId, clientSecret: 'wrong' });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('invalid_client');
      await expectViewer(srs, token, sp);
    });
  });

  describe('introspection (RFC 7662)', () => {
    let ipsp: TestClient;
    let admin: TestClient;
    let spToken: string;

    beforeAll(async () => {
      ipsp = await srs.createClient('IPSP', { issuer: 'TEST' });
      admin = await srs.createClient('ADMIN');
      spToken = await srs.token(sp, 'methods:read orders:write');
    });

    it("keeps a service provider's API token from a partner, which may introspect only order tokens of its issuer", async () => {
      const { status, body } = await postForm(srs, '/token/introspection', { token: spToken }, ipsp);
      expect(status).toBe(200);
      expect(body).toEqual({ active: false });
    });

    it("lets an ADMIN see a service provider's token", async () => {
      const { status, body } = await postForm(srs, '/token/introspection', { token: spToken }, admin);
      expect(status).toBe(200);
      expect(body.active).toBe(true);
      expect(body.client_id).toBe(sp.clientId);
      expect(sorted(body.scope)).toEqual(['methods:read', 'orders:write']);
      expect(body.token_type).toBe('Bearer');
      expect(typeof body.exp).toBe('number');
      expect(typeof body.iat).toBe('number');
      expect((body.exp as number) - (body.iat as number)).toBe(3600);
    });

    it('tells a service provider nothing, not even about its own valid token', async () => {
      const { status, body } = await postForm(srs, '/token/introspection', { token: spToken }, sp);
      expect(status).toBe(200);
      expect(body).toEqual({ active: false });
      // The token was not harmed by the attempt.
      await expectViewer(srs, spToken, sp);
    });

    it('reports an unknown token as inactive', async () => {
      const { status, body } = await postForm(srs, '/token/introspection', { token: 'never-issued' }, admin);
      expect(status).toBe(200);
      expect(body).toEqual({ active: false });
    });

    it('reports a revoked token as inactive', async () => {
      const token = await srs.token(sp);
      const before = await postForm(srs, '/token/introspection', { token }, admin);
      expect(before.body.active).toBe(true);
      expect((await postForm(srs, '/token/revocation', { token }, sp)).status).toBe(200);
      const after = await postForm(srs, '/token/introspection', { token }, admin);
      expect(after.status).toBe(200);
      expect(after.body).toEqual({ active: false });
    });

    it('needs client authentication', async () => {
      const { status, body } = await postForm(srs, '/token/introspection', { token: spToken });
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_request');
      const wrong = await postForm(srs, '/token/introspection', { token: spToken }, { clientId: admin.clientId, clientSecret: 'wrong' });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('invalid_client');
      expect(wrong.body).not.toHaveProperty('active');
    });
  });

  describe('a disabled client', () => {
    it('loses its tokens and cannot get new ones', async () => {
      const doomed = await srs.createClient('SERVICE_PROVIDER');
      const token = await srs.token(doomed);
      await expectViewer(srs, token, doomed);
      // Disabling goes through the CLI in production (which tells running processes through
      // Redis); here it is a fixture that tells no one, so the service notices when its memory
      // of the last check of this token runs out (TOKEN_CACHE_SECONDS, 5 by default).
      const disabled = await disableClient(srs.service.prisma, doomed.clientId);
      expect(disabled?.enabled).toBe(false);

      await expect.poll(async () => (await srs.graphql(ViewerQuery, { token })).status, { timeout: 8_000, interval: 250 }).toBe(401);
      await expectUnauthenticated(srs, token);
      const { status, body } = await srs.requestToken(doomed);
      expect(status).toBe(401);
      expect(body.error).toBe('invalid_client');
      // Other clients are untouched.
      await expectViewer(srs, await srs.token(sp), sp);
    });

    // The service keeps client metadata in memory; these disable a client the service has just
    // served, telling no one, and expect the very next request to be refused.
    it('is refused a token at once, although the service has just served it', async () => {
      const doomed = await srs.createClient('SERVICE_PROVIDER');
      expect((await srs.requestToken(doomed)).status).toBe(200);
      await disableClient(srs.service.prisma, doomed.clientId);

      const { status, body } = await srs.requestToken(doomed);
      expect(status).toBe(401);
      expect(body.error).toBe('invalid_client');
      expect(body).not.toHaveProperty('access_token');
    });

    it('can no longer introspect or revoke, at once', async () => {
      const operator = await srs.createClient('ADMIN');
      const token = await srs.token(sp);
      expect((await postForm(srs, '/token/introspection', { token }, operator)).body.active).toBe(true);
      await disableClient(srs.service.prisma, operator.clientId);

      const introspected = await postForm(srs, '/token/introspection', { token }, operator);
      expect(introspected.status).toBe(401);
      expect(introspected.body.error).toBe('invalid_client');
      expect(introspected.body).not.toHaveProperty('active');
      const revoked = await postForm(srs, '/token/revocation', { token }, operator);
      expect(revoked.status).toBe(401);
      expect(revoked.body.error).toBe('invalid_client');
      // The token it presented is untouched.
      await expectViewer(srs, token, sp);
    });
  });

  it('a token that outlived the disabling of its client (stored in the same instant) is inactive', async () => {
    const operator = await srs.createClient('ADMIN');
    const doomed = await srs.createClient('SERVICE_PROVIDER');
    const token = await srs.token(doomed);
    expect((await postForm(srs, '/token/introspection', { token }, operator)).body.active).toBe(true);
    // What a token request racing `clients disable` leaves behind: the client disabled, its token still stored.
    await srs.service.prisma.$executeRaw`UPDATE "Client" SET enabled = false WHERE id = ${doomed.clientId}`;
    const introspected = await postForm(srs, '/token/introspection', { token }, operator);
    expect(introspected.status).toBe(200);
    expect(introspected.body).toEqual({ active: false });
  });

  // Requests arriving together share their statements; each must still get its own answer.
  describe('many requests at once', () => {
    it('gives every client its own working token, and none to a client disabled meanwhile', async () => {
      const clients = await Promise.all(Array.from({ length: 6 }, () => srs.createClient('SERVICE_PROVIDER')));
      const doomed = clients[0];
      expect((await srs.requestToken(doomed)).status).toBe(200);
      await disableClient(srs.service.prisma, doomed.clientId);

      const answers = await Promise.all(clients.flatMap((client) => [srs.requestToken(client), srs.requestToken(client)]));
      expect(answers.slice(0, 2).map((answer) => [answer.status, answer.body.error])).toEqual([
        [401, 'invalid_client'],
        [401, 'invalid_client'],
      ]);
      const issued = answers.slice(2);
      expect(issued.map((answer) => answer.status)).toEqual(issued.map(() => 200));
      const tokens = issued.map((answer) => answer.body.access_token as string);
      expect(new Set(tokens).size).toBe(tokens.length);
      await Promise.all(tokens.map((token, index) => expectViewer(srs, token, clients[1 + Math.floor(index / 2)])));
    });

    it('answers every introspection about its own token and for its own requester', async () => {
      const operators = await Promise.all([srs.createClient('ADMIN'), srs.createClient('ADMIN')]);
      const disabledOperator = await srs.createClient('ADMIN');
      const owners = await Promise.all(Array.from({ length: 4 }, () => srs.createClient('SERVICE_PROVIDER')));
      const tokens = await Promise.all(owners.map((owner) => srs.token(owner)));
      expect((await postForm(srs, '/token/introspection', { token: tokens[0] }, disabledOperator)).body.active).toBe(true);
      await disableClient(srs.service.prisma, disabledOperator.clientId);

      const asked = tokens.flatMap((token, index) => [
        { token, owner: owners[index], operator: operators[0] },
        { token, owner: owners[index], operator: operators[1] },
        { token, owner: owners[index], operator: disabledOperator },
      ]);
      const answers = await Promise.all([
        ...asked.map(({ token, operator }) => postForm(srs, '/token/introspection', { token }, operator)),
        postForm(srs, '/token/introspection', { token: 'never-issued' }, operators[0]),
      ]);
      asked.forEach(({ owner, operator }, index) => {
        const { status, body } = answers[index];
        if (operator === disabledOperator) {
          expect([status, body.error]).toEqual([401, 'invalid_client']);
        } else {
          expect([status, body.active, body.client_id]).toEqual([200, true, owner.clientId]);
        }
      });
      expect(answers.at(-1)?.body).toEqual({ active: false });
    });
  });

  describe('stored secrets', () => {
    it('keeps no client secret in plain text', async () => {
      const fresh = await srs.createClient('SERVICE_PROVIDER');
      await srs.token(fresh);
      const clients = await srs.service.prisma.client.findMany();
      expect(clients.map((row) => row.id)).toContain(fresh.clientId);
      expect(clients.map((row) => row.id)).toContain(sp.clientId);
      for (const secret of [fresh.clientSecret, sp.clientSecret]) {
        for (const row of clients) expect(JSON.stringify(row)).not.toContain(secret);
      }
      const stored = clients.find((row) => row.id === fresh.clientId)!;
      expect(stored.secretHash).toMatch(/^sha256:[0-9a-f]{64}$/);
      // Nor do the OAuth2 payloads (tokens and the like) hold a secret.
      const payloads = await srs.service.prisma.oidcPayload.findMany();
      expect(payloads.length).toBeGreaterThan(0);
      for (const row of payloads) expect(JSON.stringify(row)).not.toContain(fresh.clientSecret);
    });
  });
});

describe('token expiry', () => {
  let db: Awaited<ReturnType<typeof freshDatabaseEnv>>;
  let srs: TestService;

  beforeAll(async () => {
    db = await freshDatabaseEnv();
    srs = await startTestService({ env: { ...db.env, ACCESS_TOKEN_TTL_SECONDS: '1' } });
  });
  afterAll(async () => {
    await srs?.stop();
    await db?.drop();
  });

  it('refuses a token once ACCESS_TOKEN_TTL_SECONDS has passed', async () => {
    const sp = await srs.createClient('SERVICE_PROVIDER');
    const { status, body } = await srs.requestToken(sp);
    expect(status).toBe(200);
    expect(body.expires_in).toBe(1);
    await sleep(2500);
    await expectUnauthenticated(srs, body.access_token as string);
    const admin = await srs.createClient('ADMIN');
    const introspected = await postForm(srs, '/token/introspection', { token: body.access_token as string }, admin);
    expect(introspected.body).toEqual({ active: false });
  });
});

describe('tokens across a restart', () => {
  let db: Awaited<ReturnType<typeof freshDatabaseEnv>>;
  let srs: TestService | undefined;

  beforeAll(async () => {
    db = await freshDatabaseEnv();
  });
  afterAll(async () => {
    await srs?.stop();
    await db?.drop();
  });

  it('keeps an issued token valid after the service restarts', async () => {
    const first = await startTestService({ env: db.env });
    srs = first;
    const sp = await first.createClient('SERVICE_PROVIDER');
    const token = await first.token(sp, 'methods:read');
    await expectViewer(first, token, sp);
    await first.stop({ keepData: true });
    srs = undefined;

    const second = await startTestService({ env: first.env });
    srs = second;
    expect(second.url).toBe(first.url);
    const viewer = await expectViewer(second, token, sp);
    expect(viewer.scopes).toEqual(['methods:read']);
    // The client and its secret survived too.
    await expectViewer(second, await second.token(sp), sp);
  });
});

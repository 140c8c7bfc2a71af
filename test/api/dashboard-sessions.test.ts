// The dashboard's cookie sessions through HTTP, SSE and graphql-ws: sign-in, what the cookie
// opens, the CSRF rules around it, and sign-out ending the session and its streams.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createDataProtection, embeddedDataKeys } from '../../src/crypto/data-protection.js';
import { methodGlobalId, placeOrderBrief, startTestService, type TestClient, type TestService } from '../kit.js';

let srs: TestService;
let provider: TestClient;

beforeAll(async () => {
  srs = await startTestService({ env: { SUBSCRIPTION_TOKEN_CHECK_SECONDS: '0.2' } });
  provider = await srs.createClient('SERVICE_PROVIDER', { name: 'Dashboard Bank' });
});
afterAll(async () => {
  await srs?.stop();
});

function signIn(at: TestService, client: { clientId: string; clientSecret: string }, headers: Record<string, string> = { origin: at.url }) {
  return fetch(`${at.url}/dashboard/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ client_id: client.clientId, client_secret: client.clientSecret, lang: 'en' }),
  });
}

/** Signs in and answers the cookie pair `srs_dashboard=…`. */
async function sessionCookie(client = provider): Promise<string> {
  const response = await signIn(srs, client);
  expect(response.status).toBe(303);
  return response.headers.get('set-cookie')!.split(';')[0];
}

function cookieGraphql(cookie: string, query: string, headers: Record<string, string> = {}) {
  return fetch(`${srs.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', cookie, origin: srs.url, ...headers },
    body: JSON.stringify({ query }),
  });
}

const ORDER_EVENTS = 'subscription { orderEvents { sequence refId status } }';

/** A browser's EventSource: GET with the cookie, no other header it could set. */
async function openEventSource(cookie: string) {
  const controller = new AbortController();
  const url = `${srs.url}/graphql?query=${encodeURIComponent(ORDER_EVENTS)}`;
  const response = await fetch(url, { headers: { accept: 'text/event-stream', cookie, 'sec-fetch-site': 'same-origin' }, signal: controller.signal });
  const chunks: string[] = [];
  let ended = false;
  const done = (async () => {
    try {
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        chunks.push(value);
      }
    } catch {
      // aborted
    }
    ended = true;
  })();
  return { response, text: () => chunks.join(''), ended: () => ended, done, abort: () => controller.abort() };
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('signing in', () => {
  it('shows a sign-in form with a CSP of its own', async () => {
    const response = await fetch(`${srs.url}/dashboard`, { headers: { 'accept-language': 'de-CH, de;q=0.9, en;q=0.5' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await response.text();
    expect(html).toContain('<html lang="de">');
    expect(html).toContain('name="client_id"');
  });

  it('refuses a wrong secret without a cookie', async () => {
    const response = await signIn(srs, { clientId: provider.clientId, clientSecret: 'wrong' });
    expect(response.status).toBe(401);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(await response.text()).toContain('role="alert"');
  });

  it('refuses a sign-in form sent from another site', async () => {
    const response = await signIn(srs, provider, { origin: 'https://evil.example' });
    expect(response.status).toBe(403);
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('sets an HttpOnly, SameSite=Strict cookie that lasts as long as the token, and stores only its hash', async () => {
    const response = await signIn(srs, provider);
    expect(response.status).toBe(303);
    const setCookie = response.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^srs_dashboard=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=3600$/);
    const id = setCookie.split(';')[0].split('=')[1];
    const stored = await srs.service.prisma.dashboardSession.findMany({ where: { clientId: provider.clientId } });
    expect(stored.map((session) => session.idHash)).toContain(createHash('sha256').update(id).digest('hex'));
    expect(stored.some((session) => session.idHash === id)).toBe(false);
    const expiresIn = stored.find((session) => session.idHash === createHash('sha256').update(id).digest('hex'))!.expiresAt.getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(3500_000);
    expect(expiresIn).toBeLessThanOrEqual(3600_000);
  });

  it('keeps the session\'s access token only sealed, and the session still works', async () => {
    const cookie = await sessionCookie();
    const idHash = createHash('sha256').update(cookie.split('=')[1]).digest('hex');
    const stored = await srs.service.prisma.dashboardSession.findUniqueOrThrow({ where: { idHash } });
    // The token the session stands for: the one that authenticates its requests.
    const viewer = await cookieGraphql(cookie, '{ viewer { clientId } }');
    expect(await viewer.json()).toEqual({ data: { viewer: { clientId: provider.clientId } } });
    const tokenIds = (await srs.service.prisma.oidcPayload.findMany({ where: { type: 'ClientCredentials' }, select: { id: true } })).map((row) => row.id);
    const row = JSON.stringify(stored);
    expect(stored.accessTokenSealed).toMatch(/^v1\.[\w-]+\./);
    // No issued token's id (its hash) nor anything token-shaped stands in the row in clear.
    for (const id of tokenIds) expect(row).not.toContain(id);
    expect(Object.keys(stored).sort()).toEqual(['accessTokenSealed', 'clientId', 'createdAt', 'expiresAt', 'idHash']);
    const opened = createDataProtection(srs.service.config.dataKeys ?? embeddedDataKeys(srs.service.config.dataDir)).open<string>(stored.accessTokenSealed);
    expect(row).not.toContain(opened);
    // The opened token is the session's own: presented as a bearer it is the same client.
    const asBearer = await srs.graphql<{ viewer: { clientId: string } }, never>('{ viewer { clientId } }', { token: opened });
    expect(asBearer.data!.viewer.clientId).toBe(provider.clientId);
  });
});

describe('under an https public URL', () => {
  let secure: TestService;
  // Its own service, started in a hook (a hook may take longer than a test on a busy machine).
  beforeAll(async () => {
    secure = await startTestService({ env: { PUBLIC_URL: 'https://srs.example' } });
  });
  afterAll(async () => {
    await secure?.stop();
  });

  it('marks the cookie Secure', async () => {
    const client = await secure.createClient('SERVICE_PROVIDER');
    const response = await fetch(`${secure.service.url}/dashboard/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://srs.example' },
      body: new URLSearchParams({ client_id: client.clientId, client_secret: client.clientSecret }),
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('set-cookie')).toMatch(/; Secure$/);
  });
});

describe('the cookie on GraphQL', () => {
  it('authenticates same-origin JSON requests as the signed-in client', async () => {
    const cookie = await sessionCookie();
    const response = await cookieGraphql(cookie, '{ viewer { clientId role } }');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { viewer: { clientId: provider.clientId, role: 'SERVICE_PROVIDER' } } });
  });

  it('is refused from another origin, without Origin on a POST, and as a form post', async () => {
    const cookie = await sessionCookie();
    for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }] as Array<Record<string, string>>) {
      const response = await cookieGraphql(cookie, '{ viewer { clientId } }', headers);
      const body = (await response.json()) as { data?: unknown; errors: Array<{ extensions: { code: string } }> };
      expect(body.data ?? null).toBeNull();
      expect(body.errors[0].extensions.code).toBe('FORBIDDEN');
    }
    const noOrigin = await fetch(`${srs.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ query: '{ viewer { clientId } }' }),
    });
    expect(((await noOrigin.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code).toBe('FORBIDDEN');
    const form = await fetch(`${srs.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: srs.url },
      body: new URLSearchParams({ query: '{ viewer { clientId } }' }),
    });
    expect(JSON.stringify(await form.json())).not.toContain(provider.clientId);
  });

  it('never carries a mutation, over POST or GET', async () => {
    const cookie = await sessionCookie();
    const mutation = `mutation { placeOrder(input: { methodId: "${methodGlobalId('test-video')}" }) { order { refId } } }`;
    const post = (await (await cookieGraphql(cookie, mutation)).json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(post.errors[0].extensions.code).toBe('FORBIDDEN');
    const get = await fetch(`${srs.url}/graphql?query=${encodeURIComponent(mutation)}`, { headers: { cookie, 'sec-fetch-site': 'same-origin', accept: 'application/json' } });
    expect(get.status).toBeGreaterThanOrEqual(400);
    const total = await srs.service.prisma.order.count({ where: { clientId: provider.clientId } });
    expect(total).toBe(0);
  });

  it('leaves header tokens as they were: the header wins over a cookie', async () => {
    const other = await srs.createClient('SERVICE_PROVIDER');
    const token = await srs.token(other);
    const cookie = await sessionCookie();
    const response = await srs.graphql<{ viewer: { clientId: string } }, never>('{ viewer { clientId } }', { token, headers: { cookie, origin: 'https://evil.example' } });
    expect(response.data!.viewer.clientId).toBe(other.clientId);
  });

  it('is UNAUTHENTICATED for an unknown session id', async () => {
    const response = await cookieGraphql('srs_dashboard=not-a-session', '{ viewer { clientId } }');
    const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('live streams with the cookie', () => {
  it('serves a plain EventSource GET, and sign-out ends the stream and the session', async () => {
    const cookie = await sessionCookie();
    const stream = await openEventSource(cookie);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toContain('text/event-stream');
    const token = await srs.token(provider);
    const order = await placeOrderBrief(srs, token, { methodId: methodGlobalId('test-video') });
    await until(() => stream.text().includes(order.refId));

    const signOut = await fetch(`${srs.url}/dashboard/sign-out`, { method: 'POST', redirect: 'manual', headers: { cookie, origin: srs.url } });
    expect(signOut.status).toBe(303);
    expect(signOut.headers.get('set-cookie')).toMatch(/^srs_dashboard=; .*Max-Age=0/);
    await until(stream.ended);
    const after = (await (await cookieGraphql(cookie, '{ viewer { clientId } }')).json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(after.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('opens graphql-ws from our own origin only', async () => {
    const cookie = await sessionCookie();
    const wsUrl = `${srs.url.replace('http', 'ws')}/graphql`;
    const connect = (origin: string) =>
      new Promise<{ acked: boolean; closeCode?: number }>((resolve) => {
        const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { headers: { cookie, origin } });
        socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
        socket.on('message', (data) => {
          if (JSON.parse(String(data)).type === 'connection_ack') {
            resolve({ acked: true });
            socket.close();
          }
        });
        socket.on('close', (code) => resolve({ acked: false, closeCode: code }));
        socket.on('error', () => resolve({ acked: false }));
      });
    expect((await connect(srs.url)).acked).toBe(true);
    const evil = await connect('https://evil.example');
    expect(evil.acked).toBe(false);
  });
});

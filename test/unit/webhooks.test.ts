// The webhook feature's plain rules: the URL guard, the retry policy, signing, and the pinned
// connection that makes a second DNS answer (rebinding) powerless.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { checkWebhookUrl, isBlockedAddress, resolveDestination, type Resolver } from '../../src/webhooks/url-guard.js';
import { nextStep, retryAfterSeconds } from '../../src/webhooks/retry-policy.js';
import { newWebhookSecret, signedHeaders } from '../../src/webhooks/signer.js';
import { postWebhook } from '../../src/webhooks/sender.js';
import { webhookBody } from '../../src/webhooks/events.js';
import { loadConfig } from '../../src/config.js';

describe('the URL guard', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.254',
    '192.168.1.1',
    '169.254.169.254',
    '0.0.0.0',
    '100.64.0.1',
    '::1',
    '::',
    'fc00::1',
    'fd00:ec2::254',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
    '2002:7f00:1::',
    'not an address',
  ])('blocks %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111'])('lets %s through', (address) => {
    expect(isBlockedAddress(address)).toBe(false);
  });

  it.each([
    ['ftp://example.com/hook', /Only http and https/],
    ['file:///etc/passwd', /Only http and https/],
    ['javascript:alert(1)', /Only http and https/],
    ['not a url', /not an absolute URL/],
    ['https://user:pw@example.com/hook', /user name or password/],
    ['http://127.0.0.1:8080/hook', /loopback, private/],
    ['http://2130706433/hook', /127\.0\.0\.1 is a loopback/],
    ['http://0x7f.1/hook', /loopback, private/],
    ['http://[::1]/hook', /loopback, private/],
    ['http://[::ffff:7f00:1]/hook', /loopback, private/],
    ['http://169.254.169.254/latest/meta-data', /loopback, private/],
    ['http://metadata.google.internal/computeMetadata/v1', /internal service/],
    ['http://localhost:4000/hook', /internal service/],
    [`https://example.com/${'a'.repeat(2000)}`, /longer than/],
  ])('refuses %s', (url, reason) => {
    const checked = checkWebhookUrl(url, false);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.reason).toMatch(reason);
  });

  it('allows private destinations only when told to, and never another scheme', () => {
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', true).ok).toBe(true);
    expect(checkWebhookUrl('ftp://127.0.0.1/hook', true).ok).toBe(false);
  });

  it('refuses a name that resolves to a private address, or to one private address among public ones', async () => {
    const toLoopback: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const mixed: Resolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.5', family: 4 },
    ];
    const refused = await resolveDestination('https://hooks.example.com/x', { allowPrivate: false, resolve: toLoopback });
    expect(refused).toEqual({ ok: false, reason: expect.stringMatching(/resolves to 127\.0\.0\.1/) });
    expect((await resolveDestination('https://hooks.example.com/x', { allowPrivate: false, resolve: mixed })).ok).toBe(false);
    const failing: Resolver = async () => {
      throw new Error('ENOTFOUND');
    };
    expect(await resolveDestination('https://nowhere.example/x', { allowPrivate: false, resolve: failing })).toEqual({ ok: false, reason: expect.stringMatching(/does not resolve/) });
    const allowed = await resolveDestination('https://hooks.example.com/x', { allowPrivate: false, resolve: async () => [{ address: '93.184.216.34', family: 4 }] });
    expect(allowed.ok && allowed.address).toEqual({ address: '93.184.216.34', family: 4 });
  });

  it('refuses a name resolving to 127.0.0.1 with the system resolver', async () => {
    const refused = await resolveDestination('http://localhost.:9/hook', { allowPrivate: false });
    expect(refused.ok).toBe(false);
  });
});

describe('the retry policy', () => {
  const schedule = [0, 5, 300, 1800];
  const now = new Date('2026-11-26T12:00:00Z');
  const answer = (status: number, retryAfter?: string) => ({ kind: 'response' as const, status, retryAfter, excerpt: 'nope' });

  it('delivers on any 2xx', () => {
    expect(nextStep(answer(204), 1, schedule, now)).toMatchObject({ status: 'DELIVERED', nextAttemptAt: null, lastError: null, lastResponseStatus: 204 });
  });

  it('retries on the schedule, then fails for good', () => {
    expect(nextStep(answer(500), 1, schedule, now).nextAttemptAt).toEqual(new Date(now.getTime() + 5000));
    expect(nextStep({ kind: 'error', message: 'Could not deliver: ECONNREFUSED.' }, 3, schedule, now)).toMatchObject({
      status: 'PENDING',
      nextAttemptAt: new Date(now.getTime() + 1_800_000),
      lastResponseStatus: null,
      lastError: 'Could not deliver: ECONNREFUSED.',
    });
    expect(nextStep(answer(500), 4, schedule, now)).toMatchObject({ status: 'FAILED', nextAttemptAt: null, lastError: 'HTTP 500: nope' });
  });

  it('honours Retry-After on 429 and 503 only', () => {
    expect(nextStep(answer(429, '120'), 1, schedule, now).nextAttemptAt).toEqual(new Date(now.getTime() + 120_000));
    expect(nextStep(answer(503, 'Thu, 26 Nov 2026 12:10:00 GMT'), 1, schedule, now).nextAttemptAt).toEqual(new Date(now.getTime() + 600_000));
    expect(nextStep(answer(500, '120'), 1, schedule, now).nextAttemptAt).toEqual(new Date(now.getTime() + 5000));
    expect(retryAfterSeconds('999999999', now)).toBe(86_400);
    expect(retryAfterSeconds('soon', now)).toBeUndefined();
  });

  it('gives up and disables the endpoint on 410', () => {
    expect(nextStep(answer(410), 1, schedule, now)).toMatchObject({ status: 'FAILED', disableEndpoint: true, lastResponseStatus: 410 });
  });

  it('keeps control characters of an answer out of the error', () => {
    expect(nextStep({ kind: 'response', status: 500, excerpt: 'a\u0000\nb' }, 1, schedule, now).lastError).toBe('HTTP 500: a b');
  });
});

describe('signing', () => {
  it('signs with every secret given, each verifiable alone by the standardwebhooks package', () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    expect(current).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = webhookBody({
      type: 'STATUS_CHANGED',
      status: 'INITIALIZED',
      previousStatus: 'CREATED',
      reason: null,
      sequence: 42n,
      at: new Date(),
      refId: 'SRS-1',
      externalId: null,
    });
    const headers = signedHeaders('event-1', new Date(), body, [current, previous]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toMatchObject({ type: 'order.status_changed', data: { refId: 'SRS-1', sequence: '42' } });
    expect(new Webhook(previous).verify(body, headers)).toBeTruthy();
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
  });
});

describe('the configuration', () => {
  it('reads the webhook variables, and refuses a bad schedule', () => {
    expect(loadConfig({}).webhooks).toMatchObject({ retryScheduleSeconds: [0, 5, 300, 1800, 7200, 18000, 36000, 36000], timeoutSeconds: 15, allowPrivateDestinations: false, secretOverlapSeconds: 86_400 });
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE: '0, 1.5,60', WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: '1' }).webhooks).toMatchObject({ retryScheduleSeconds: [0, 1.5, 60], allowPrivateDestinations: true });
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '5,10' })).toThrow(/WEBHOOK_RETRY_SCHEDULE.*must start with 0/);
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '0,soon' })).toThrow(/WEBHOOK_RETRY_SCHEDULE/);
  });
});

describe('the pinned connection', () => {
  let server: http.Server;
  let port: number;
  const hosts: string[] = [];
  beforeAll(async () => {
    server = http.createServer((request, response) => {
      hosts.push(request.headers.host ?? '');
      request.resume();
      if (request.url === '/big') {
        response.writeHead(500);
        response.end('x'.repeat(1_000_000));
      } else if (request.url === '/redirect') {
        response.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' });
        response.end();
      } else {
        response.writeHead(200);
        response.end('ok');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('connects to the checked address, not to what the name resolves to later', async () => {
    // The name resolves nowhere in real DNS: only the pinned address can reach the server.
    const destination = await resolveDestination(`http://receiver.invalid:${port}/hook`, { allowPrivate: true, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    expect(destination.ok).toBe(true);
    if (!destination.ok) return;
    expect(await postWebhook(destination, {}, '{}', 5000)).toMatchObject({ kind: 'response', status: 200 });
    expect(hosts.at(-1)).toBe(`receiver.invalid:${port}`);
  });

  it('reads only the start of a large answer, and follows no redirect', async () => {
    const big = await postWebhook({ url: new URL(`http://127.0.0.1:${port}/big`), address: { address: '127.0.0.1', family: 4 } }, {}, '{}', 5000);
    expect(big).toMatchObject({ kind: 'response', status: 500 });
    expect(big.kind === 'response' && big.excerpt.length).toBeLessThanOrEqual(200);
    expect(await postWebhook({ url: new URL(`http://127.0.0.1:${port}/redirect`), address: { address: '127.0.0.1', family: 4 } }, {}, '{}', 5000)).toMatchObject({ status: 302 });
  });

  it('answers a refused connection as an error, never throwing', async () => {
    expect(await postWebhook({ url: new URL('http://127.0.0.1:1/hook'), address: { address: '127.0.0.1', family: 4 } }, {}, '{}', 5000)).toMatchObject({ kind: 'error', message: expect.stringMatching(/ECONNREFUSED/) });
  });
});

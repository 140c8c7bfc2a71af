// SMS_GATEWAY=http and =twilio against local servers speaking those APIs: the T&C SMS of an
// identified order reaches the provider; a refused send is retried by the outbox with back-off,
// counted in the metrics, and the message goes out once.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodGlobalId, spToken, startTestService, type TestService } from '../kit.js';

interface ProviderRequest {
  method: string;
  path: string;
  authorization?: string;
  contentType?: string;
  body: string;
}

/** A provider that refuses the first `refusals` requests with `refusal`, then accepts with `accepted`. */
async function startProvider(refusal: { status: number; body: unknown }, accepted: { status: number; body: unknown }, refusals = 1) {
  const requests: ProviderRequest[] = [];
  const server = http.createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    requests.push({
      method: request.method!,
      path: request.url!,
      authorization: request.headers.authorization,
      contentType: request.headers['content-type'],
      body: Buffer.concat(chunks).toString('utf8'),
    });
    const answer = requests.length <= refusals ? refusal : accepted;
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const PLACE = `mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { order { refId } userErrors { code message } } }`;
const SIMULATE = `mutation Simulate($input: SimulateIdentificationInput!) { simulateIdentification(input: $input) { order { status } userErrors { code message } } }`;
const MOBILE = '+41791234567';

/** A TEST order identified: its T&C SMS is queued (and handed to the gateway at once). */
async function identify(srs: TestService): Promise<string> {
  const token = await spToken(srs);
  const placed = await srs.graphql<{ placeOrder: { order: { refId: string } } }, unknown>(PLACE, {
    variables: { input: { methodId: methodGlobalId('test-video'), initialData: { givenNames: 'Erika', surname: 'Muster', dateOfBirth: '1990-04-01', mobileNumber: MOBILE } } },
    token,
  });
  const refId = placed.data!.placeOrder.order.refId;
  const simulated = await srs.graphql<{ simulateIdentification: { order: { status: string } } }, unknown>(SIMULATE, { variables: { input: { refId, outcome: 'SUCCESS' } }, token });
  expect(simulated.data!.simulateIdentification.order.status).toBe('TERMINATED');
  return refId;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function metric(srs: TestService, name: string, gateway: string): Promise<number> {
  const text = await (await fetch(`${srs.url}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith(`${name}{gateway="${gateway}"}`));
  return Number(line?.split(' ')[1]);
}

/**
 * The refused first try leaves the message PENDING with a retry 10 s later (the outbox's
 * back-off); the test moves that retry to now instead of waiting, and the sweep sends it.
 */
async function refusedThenSent(srs: TestService, provider: { requests: ProviderRequest[] }, gateway: string, secrets: string[]) {
  const before = Date.now();
  await identify(srs);
  const failed = await until('the first refusal', () => srs.service.prisma.smsMessage.findFirst({ where: { attempts: 1, status: 'PENDING' } }));
  expect(provider.requests).toHaveLength(1);
  expect(failed.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(before + 9_000);
  expect(failed.lastError).toMatch(new RegExp(`^The SMS provider \\(${gateway}\\) answered 50\\d`));
  for (const secret of [...secrets, '/terms/', MOBILE]) expect(failed.lastError).not.toContain(secret);
  expect(await metric(srs, 'srs_sms_send_failures_total', gateway)).toBe(1);
  expect(await metric(srs, 'srs_sms_sent_total', gateway)).toBe(0);

  await srs.service.prisma.smsMessage.update({ where: { id: failed.id }, data: { nextAttemptAt: new Date() } });
  const sent = await until('the retry', () => srs.service.prisma.smsMessage.findFirst({ where: { id: failed.id, status: 'SENT' } }));
  expect(sent.attempts).toBe(2);
  // Sent once: later sweeps leave it alone.
  await new Promise((resolve) => setTimeout(resolve, 600));
  expect(provider.requests).toHaveLength(2);
  expect(await metric(srs, 'srs_sms_sent_total', gateway)).toBe(1);
  expect(await metric(srs, 'srs_sms_send_failures_total', gateway)).toBe(1);
  return provider.requests[1];
}

describe('SMS_GATEWAY=http', () => {
  let provider: Awaited<ReturnType<typeof startProvider>>;
  let srs: TestService;
  const token = 'sms-provider-token-123';

  beforeAll(async () => {
    provider = await startProvider({ status: 503, body: { error: 'busy' } }, { status: 202, body: { id: 'm-1' } });
    srs = await startTestService({ env: { SMS_GATEWAY: 'http', SMS_HTTP_URL: `${provider.url}/v1/sms`, SMS_HTTP_TOKEN: token, SMS_OUTBOX_SWEEP_SECONDS: '0.2' } });
  });
  afterAll(async () => {
    await srs?.stop();
    await provider?.close();
  });

  it('posts {to, text} with the bearer token; a refusal is retried and the SMS sent once', async () => {
    const request = await refusedThenSent(srs, provider, 'http', [token]);
    expect(request).toMatchObject({ method: 'POST', path: '/v1/sms', authorization: `Bearer ${token}`, contentType: 'application/json' });
    const body = JSON.parse(request.body) as { to: string; text: string };
    expect(Object.keys(body).sort()).toEqual(['text', 'to']);
    expect(body.to).toBe(MOBILE);
    expect(body.text).toContain(`${srs.url}/terms/`);
    expect(provider.requests[0].body).toBe(request.body);
  });
});

describe('SMS_GATEWAY=twilio', () => {
  let twilio: Awaited<ReturnType<typeof startProvider>>;
  let srs: TestService;
  const sid = `AC${'0123456789abcdef'.repeat(2)}`;
  const authToken = 'twilio-auth-token-456';

  beforeAll(async () => {
    twilio = await startProvider(
      { status: 500, body: { code: 20500, message: `Internal error sending to ${MOBILE}`, more_info: 'https://www.twilio.com/docs/errors/20500', status: 500 } },
      { status: 201, body: { sid: `SM${'1'.repeat(32)}`, status: 'queued' } },
    );
    srs = await startTestService({
      env: { SMS_GATEWAY: 'twilio', TWILIO_API_URL: twilio.url, TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: authToken, TWILIO_FROM: '+41790000000', SMS_OUTBOX_SWEEP_SECONDS: '0.2' },
    });
  });
  afterAll(async () => {
    await srs?.stop();
    await twilio?.close();
  });

  it("posts the Messages form with the account's Basic authentication; a refusal is retried and the SMS sent once", async () => {
    const request = await refusedThenSent(srs, twilio, 'twilio', [authToken]);
    expect(request).toMatchObject({
      method: 'POST',
      path: `/2010-04-01/Accounts/${sid}/Messages.json`,
      authorization: `Basic ${Buffer.from(`${sid}:${authToken}`).toString('base64')}`,
      contentType: 'application/x-www-form-urlencoded',
    });
    const form = new URLSearchParams(request.body);
    expect([...form.keys()].sort()).toEqual(['Body', 'From', 'To']);
    expect(form.get('To')).toBe(MOBILE);
    expect(form.get('From')).toBe('+41790000000');
    expect(form.get('Body')).toContain(`${srs.url}/terms/`);
    const failed = await srs.service.prisma.smsMessage.findFirstOrThrow();
    expect(failed.lastError).toBe('The SMS provider (twilio) answered 500 (Twilio error 20500, see https://www.twilio.com/docs/errors/20500)');
  });
});

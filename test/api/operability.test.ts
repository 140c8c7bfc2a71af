// Operability through the public surface: /metrics in Prometheus format, and an orderly
// shutdown (503 for new work, streams completed, WebSockets closed with 1001, work in flight
// finished rather than half written).
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodGlobalId, placeOrderBrief, spToken, startTestService, type TestService } from '../kit.js';
import { PlaceOrderBriefMutation } from '../documents.js';
import { connectWs, subscribeSse } from '../ws-kit.js';

const ORDER_EVENTS = 'subscription { orderEvents { sequence status } }';
const METRICS_TOKEN = 'scrape-token-for-the-tests';

/** Each sample of the exposition as `name{labels} value`, labels sorted as the registry writes them. */
async function scrape(srs: TestService, token?: string): Promise<{ status: number; type: string | null; samples: Map<string, number> }> {
  const response = await fetch(`${srs.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) samples.set(match[1], Number(match[2]));
  }
  return { status: response.status, type: response.headers.get('content-type'), samples };
}

describe('/metrics', () => {
  let srs: TestService;
  beforeAll(async () => {
    srs = await startTestService({ env: { TIMEOUT_SWEEP_SECONDS: '0.2', METRICS_TOKEN } });
  });
  afterAll(() => srs?.stop());

  it('answers only with the METRICS_TOKEN when one is set', async () => {
    expect((await scrape(srs)).status).toBe(401);
    expect((await scrape(srs, 'wrong-token-of-some-length')).status).toBe(401);
    const scraped = await scrape(srs, METRICS_TOKEN);
    expect(scraped.status).toBe(200);
    expect(scraped.type).toContain('text/plain');
  });

  it('reports operation latency, orders by status, open subscriptions, WebSockets, jobs and the outbox', async () => {
    const token = await spToken(srs);
    const before = (await scrape(srs, METRICS_TOKEN)).samples;
    const placed = 'srs_graphql_operation_duration_seconds_count{operation="placeOrder",type="mutation",outcome="ok"}';
    const initialized = 'srs_orders{status="INITIALIZED"}';

    const order = await placeOrderBrief(srs, token, { methodId: methodGlobalId('test-video'), disabledSmsAlerts: true });
    expect(order.status).toBe('INITIALIZED');
    const connection = connectWs(srs, token);
    const stream = connection.subscribe(ORDER_EVENTS);
    await expect.poll(async () => (await scrape(srs, METRICS_TOKEN)).samples.get('srs_open_subscriptions')).toBe(1);

    const after = (await scrape(srs, METRICS_TOKEN)).samples;
    expect(after.get(placed)).toBe((before.get(placed) ?? 0) + 1);
    expect(after.get(initialized)).toBe((before.get(initialized) ?? 0) + 1);
    // Every status has a series, also at zero.
    expect(after.get('srs_orders{status="TIMEOUT"}')).toBeTypeOf('number');
    expect(after.get('srs_websocket_connections')).toBe(1);
    expect(after.get('srs_sms_outbox_backlog')).toBe(0);
    expect(after.get('srs_sms_outbox_oldest_due_seconds')).toBe(0);
    expect(after.get('srs_http_request_duration_seconds_count{route="graphql",method="POST",status="200"}')).toBeGreaterThan(0);
    expect(after.get('srs_job_runs_total{job="timeouts",outcome="ok"}')).toBeGreaterThan(0);
    expect(after.get('srs_job_lag_seconds{job="timeouts"}')).toBe(0);
    expect(after.get('srs_process_resident_memory_bytes')).toBeGreaterThan(0);

    stream.dispose();
    await connection.dispose();
    await expect.poll(async () => (await scrape(srs, METRICS_TOKEN)).samples.get('srs_open_subscriptions')).toBe(0);
    await expect.poll(async () => (await scrape(srs, METRICS_TOKEN)).samples.get('srs_websocket_connections')).toBe(0);
  });

  it('labels a failed operation as an error, and never by the client-chosen name', async () => {
    const response = await srs.graphql('query MyVeryOwnName { viewer { name } }', { token: null });
    expect(response.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const samples = (await scrape(srs, METRICS_TOKEN)).samples;
    expect([...samples.keys()].some((key) => key.includes('MyVeryOwnName'))).toBe(false);
  });
});

describe('an orderly shutdown', () => {
  it('completes streams, closes WebSockets with 1001, finishes orders in flight and refuses new work', async () => {
    const srs = await startTestService({ env: { SHUTDOWN_GRACE_SECONDS: '20' } });
    const token = await spToken(srs);
    const connection = connectWs(srs, token);
    const wsStream = connection.subscribe(ORDER_EVENTS);
    const sseStream = subscribeSse(srs, token, ORDER_EVENTS);
    await expect.poll(async () => (await scrape(srs)).samples.get('srs_open_subscriptions')).toBe(2);

    // Orders racing the shutdown: each is either placed in full (opened at the partner) or
    // refused with 503 before anything was written; none is left half done.
    const racing = Array.from({ length: 4 }, () =>
      fetch(`${srs.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: print(PlaceOrderBriefMutation),
          variables: { input: { methodId: methodGlobalId('test-video'), disabledSmsAlerts: true } },
        }),
      }).then(async (response) => ({ status: response.status, body: (await response.json()) as Record<string, any> })),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    const stopped = srs.stop();

    for (const outcome of await Promise.all(racing)) {
      if (outcome.status === 503) {
        expect(outcome.body.error).toBe('shutting_down');
      } else {
        expect(outcome).toMatchObject({ status: 200, body: { data: { placeOrder: { order: { status: 'INITIALIZED' }, userErrors: [] } } } });
      }
    }
    await sseStream.waitForEnd(20_000);
    expect(sseStream.endedBy).toBe('complete');
    await wsStream.waitForEnd(20_000);
    await expect.poll(() => connection.closes).toEqual([expect.objectContaining({ code: 1001 })]);
    await stopped;
    await expect(fetch(`${srs.url}/health`)).rejects.toThrow();
  }, 60_000);
});

// orderStatistics through GraphQL over known orders: exact counts per status, the funnel, the
// timings and partner health; another provider's orders never counted; an operator's breakdown
// per provider; bad periods answered with a code; asOfSequence resumes the event stream exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { methodGlobalId, placeOrderBrief, startTestService, type TestClient, type TestService } from '../kit.js';
import { SimulateBriefMutation } from '../documents.js';
import { subscribeSse } from '../ws-kit.js';

const StatisticsQuery = graphql(`
  query DashStatistics($period: StatisticsPeriod, $from: DateTime, $to: DateTime) {
    orderStatistics(period: $period, from: $from, to: $to) {
      from
      to
      asOfSequence
      total
      byStatus { status count }
      byProvider { clientId name total byStatus { status count } }
      methods {
        methodId methodName issuer placed initialized identificationDone terminated termsAccepted
        dropOffs { status reason count }
        placedToTerminated { count medianSeconds p90Seconds }
        terminatedToTermsAccepted { count medianSeconds p90Seconds }
      }
      partnerHealth { issuer ended errors timeouts errorRate timeoutRate }
    }
  }
`);

const RecordTermsMutation = graphql(`
  mutation DashRecordTerms($input: RecordTermsDecisionInput!) {
    recordTermsDecision(input: $input) {
      terms { status }
      userErrors { code field message }
    }
  }
`);

const PERSON = { givenNames: 'Erika', surname: 'Muster', dateOfBirth: '1990-04-12', mobileNumber: '+41791234567' };

let srs: TestService;
let providerA: TestClient;
let providerB: TestClient;
let tokenA: string;
let tokenB: string;
let adminToken: string;

async function placeAndEnd(token: string, outcome: 'SUCCESS' | 'ERROR' | 'ABORTED' | 'TIMEOUT' | null, reason?: string, disabledSmsAlerts = false) {
  const order = await placeOrderBrief(srs, token, { methodId: methodGlobalId('test-video'), initialData: PERSON, disabledSmsAlerts });
  if (outcome) {
    const response = await srs.graphql(SimulateBriefMutation, { variables: { input: { refId: order.refId, outcome, reason } }, token });
    expect(response.errors).toBeUndefined();
    expect(response.data!.simulateIdentification.userErrors).toEqual([]);
  }
  return order.refId;
}

async function statistics(token: string, variables: { period?: 'TODAY' | 'LAST_7_DAYS' | 'LAST_30_DAYS'; from?: string; to?: string } = { period: 'LAST_7_DAYS' }) {
  const response = await srs.graphql(StatisticsQuery, { variables, token });
  expect(response.errors).toBeUndefined();
  return response.data!.orderStatistics;
}

const counts = (byStatus: Array<{ status: string; count: number }>) => Object.fromEntries(byStatus.filter((entry) => entry.count > 0).map((entry) => [entry.status, entry.count]));

beforeAll(async () => {
  srs = await startTestService();
  providerA = await srs.createClient('SERVICE_PROVIDER', { name: 'Alpha Bank' });
  providerB = await srs.createClient('SERVICE_PROVIDER', { name: 'Beta Insurance' });
  tokenA = await srs.token(providerA);
  tokenB = await srs.token(providerB);
  adminToken = await srs.token(await srs.createClient('ADMIN'));

  // Provider A: two identified (one with its T&C accepted), one error, one aborted, one still open.
  const accepted = await placeAndEnd(tokenA, 'SUCCESS', undefined, true);
  const recorded = await srs.graphql(RecordTermsMutation, { variables: { input: { refId: accepted, accepted: true, termsVersion: '2026-11' } }, token: tokenA });
  expect(recorded.errors).toBeUndefined();
  expect(recorded.data!.recordTermsDecision.userErrors).toEqual([]);
  await placeAndEnd(tokenA, 'SUCCESS');
  await placeAndEnd(tokenA, 'ERROR', 'Camera could not be started');
  await placeAndEnd(tokenA, 'ABORTED', 'User closed the window');
  await placeAndEnd(tokenA, null);
  // Provider B: one identified, one timed out.
  await placeAndEnd(tokenB, 'SUCCESS');
  await placeAndEnd(tokenB, 'TIMEOUT');
});
afterAll(async () => {
  await srs?.stop();
});

describe('orderStatistics for a service provider', () => {
  it('counts exactly its own orders by status, every status listed', async () => {
    const stats = await statistics(tokenA);
    expect(stats.total).toBe(5);
    expect(stats.byStatus).toHaveLength(10);
    expect(counts(stats.byStatus)).toEqual({ INITIALIZED: 1, TERMINATED: 2, ERROR: 1, ABORTED: 1 });
    expect(stats.byProvider).toEqual([]);
    const b = await statistics(tokenB);
    expect(b.total).toBe(2);
    expect(counts(b.byStatus)).toEqual({ TERMINATED: 1, TIMEOUT: 1 });
  });

  it('gives the funnel per method with drop-offs and the partner’s reason', async () => {
    const [method, ...others] = (await statistics(tokenA)).methods;
    expect(others).toEqual([]);
    expect(method).toMatchObject({
      methodId: methodGlobalId('test-video'),
      methodName: 'video',
      issuer: 'TEST',
      placed: 5,
      initialized: 5,
      identificationDone: 2,
      terminated: 2,
      termsAccepted: 1,
    });
    expect(method.dropOffs).toEqual(
      expect.arrayContaining([
        { status: 'ERROR', reason: 'Camera could not be started', count: 1 },
        expect.objectContaining({ status: 'ABORTED', count: 1 }),
      ]),
    );
    expect(method.dropOffs).toHaveLength(2);
  });

  it('gives median and p90 durations from the orders that went through both steps', async () => {
    const [method] = (await statistics(tokenA)).methods;
    expect(method.placedToTerminated.count).toBe(2);
    expect(method.placedToTerminated.medianSeconds).toBeGreaterThanOrEqual(0);
    expect(method.placedToTerminated.p90Seconds).toBeGreaterThanOrEqual(method.placedToTerminated.medianSeconds!);
    expect(method.terminatedToTermsAccepted.count).toBe(1);
    expect(method.terminatedToTermsAccepted.medianSeconds).toBe(method.terminatedToTermsAccepted.p90Seconds);
    const empty = (await statistics(await srs.token(await srs.createClient('SERVICE_PROVIDER')))).methods;
    expect(empty).toEqual([]);
  });

  it('gives the error and timeout rate per partner over the last hour, of its own orders', async () => {
    expect((await statistics(tokenA)).partnerHealth).toEqual([{ issuer: 'TEST', ended: 3, errors: 1, timeouts: 0, errorRate: 1 / 3, timeoutRate: 0 }]);
    expect((await statistics(tokenB)).partnerHealth).toEqual([{ issuer: 'TEST', ended: 2, errors: 0, timeouts: 1, errorRate: 0, timeoutRate: 0.5 }]);
  });

  it('counts nothing outside the period', async () => {
    const stats = await statistics(tokenA, { from: '2020-01-01T00:00:00Z', to: '2020-02-01T00:00:00Z' });
    expect(stats.total).toBe(0);
    expect(stats.methods).toEqual([]);
    expect(stats.from).toBe('2020-01-01T00:00:00.000Z');
  });
});

describe('orderStatistics for others', () => {
  it('gives an operator every order, with a breakdown per provider', async () => {
    const stats = await statistics(adminToken);
    expect(stats.total).toBe(7);
    expect(counts(stats.byStatus)).toEqual({ INITIALIZED: 1, TERMINATED: 3, ERROR: 1, ABORTED: 1, TIMEOUT: 1 });
    expect(stats.byProvider.map((provider) => ({ clientId: provider.clientId, name: provider.name, total: provider.total, counts: counts(provider.byStatus) }))).toEqual([
      { clientId: providerA.clientId, name: 'Alpha Bank', total: 5, counts: { INITIALIZED: 1, TERMINATED: 2, ERROR: 1, ABORTED: 1 } },
      { clientId: providerB.clientId, name: 'Beta Insurance', total: 2, counts: { TERMINATED: 1, TIMEOUT: 1 } },
    ]);
    expect(stats.partnerHealth).toEqual([{ issuer: 'TEST', ended: 5, errors: 1, timeouts: 1, errorRate: 0.2, timeoutRate: 0.2 }]);
  });

  it('gives a partner its issuer’s orders, and another partner none', async () => {
    const testPartner = await srs.token(await srs.createClient('IPSP', { issuer: 'TEST' }));
    expect((await statistics(testPartner)).total).toBe(7);
    const otherPartner = await srs.token(await srs.createClient('IPSP', { issuer: 'NECT' }));
    const other = await statistics(otherPartner);
    expect(other.total).toBe(0);
    expect(other.partnerHealth).toEqual([]);
  });

  it('is FORBIDDEN without a scope to read orders', async () => {
    const verifier = await srs.token(await srs.createClient('SERVICE_PROVIDER', { scopes: ['verify'] }));
    const response = await srs.graphql(StatisticsQuery, { variables: {}, token: verifier });
    expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});

describe('periods and resuming', () => {
  it('answers BAD_USER_INPUT with the field for a bad range', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ from: '2026-01-01T00:00:00Z' }, 'to'],
      [{ to: '2026-01-01T00:00:00Z' }, 'from'],
      [{ from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'from'],
      [{ period: 'TODAY', from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' }, 'period'],
      [{ from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'to'],
    ];
    for (const [variables, field] of cases) {
      const response = await srs.graphql(StatisticsQuery, { variables, token: tokenA });
      expect(response.data ?? null).toBeNull();
      expect(response.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const badPeriod = await srs.graphql(StatisticsQuery, { variables: { period: 'YESTERDAY' as never }, token: tokenA });
    expect(badPeriod.status).toBe(400);
  });

  it('names the sequence to resume orderEvents after: the next event streamed is the first one after the figures', async () => {
    const before = await statistics(tokenA);
    // Another provider's event comes in between; provider A's stream must not show it.
    await placeAndEnd(tokenB, null);
    const stream = subscribeSse<{ orderEvents: { sequence: string; refId: string; status: string } }>(
      srs,
      tokenA,
      'subscription ($after: String) { orderEvents(filter: { afterSequence: $after }) { sequence refId status } }',
      { after: before.asOfSequence },
    );
    const refId = await placeAndEnd(tokenA, null);
    const items = await stream.waitFor(2);
    stream.abort();
    expect(items.map((item) => [item.orderEvents.refId, item.orderEvents.status])).toEqual([
      [refId, 'CREATED'],
      [refId, 'INITIALIZED'],
    ]);
    expect(BigInt(items[0].orderEvents.sequence)).toBeGreaterThan(BigInt(before.asOfSequence));
    const after = await statistics(tokenA);
    expect(after.total).toBe(before.total + 1);
    expect(BigInt(after.asOfSequence)).toBeGreaterThanOrEqual(BigInt(items[1].orderEvents.sequence));
  });
});

// Event sequences follow commit order, whoever writes the events: the guarantee every stream's
// "no gap, no duplicate" rests on lives in the database (a trigger at commit), not in a lock
// each writer must remember to take. Only PostgreSQL has concurrent transactions to prove it.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, methodGlobalId, placeOrderBrief, spToken, startTestService, type TestService } from '../kit.js';
import { connectWs, type WsConnection } from '../ws-kit.js';

const TERMS_EVENTS = `subscription TermsEvents($filter: OrderEventFilter) {
  orderEvents(filter: $filter) { refId sequence type }
}`;
type TermsEvent = { orderEvents: { refId: string; sequence: string; type: string } };

const LATEST_SEQUENCE = `query LatestSequence($refId: ID!) { order(refId: $refId) { events { sequence } } }`;

describe.runIf(backend === 'postgres')('event sequences', () => {
  let srs: TestService;
  const opened: Array<{ end(): Promise<void> } | WsConnection> = [];

  beforeAll(async () => {
    srs = await startTestService();
  });
  afterAll(async () => {
    await Promise.all(opened.map((item) => ('dispose' in item ? item.dispose() : item.end())));
    await srs?.stop();
  });

  async function connection(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: srs.env.DATABASE_URL });
    await client.connect();
    opened.push(client);
    return client;
  }

  // Straight to the table, as any writer might: no lock, no notice (the feed's poll finds it).
  const insertEvent = (client: pg.Client, orderId: string, type: string) =>
    client.query(
      `INSERT INTO "OrderEvent" (id, "orderId", type, status, "previousStatus", actor) VALUES ($1, $2, $3::"OrderEventType", 'INITIALIZED', 'INITIALIZED', 'test')`,
      [randomUUID(), orderId, type],
    );

  it('numbers events in commit order, so a stream sees one that was written first but committed last', async () => {
    const token = await spToken(srs);
    const { refId } = await placeOrderBrief(srs, token, { methodId: methodGlobalId('test-video'), disabledSmsAlerts: true });
    const { id: orderId } = await srs.service.prisma.order.findUniqueOrThrow({ where: { refId } });
    const stored = await srs.graphql<{ order: { events: Array<{ sequence: string }> } }, { refId: string }>(LATEST_SEQUENCE, { variables: { refId }, token });
    const point = stored.data!.order.events.at(-1)!.sequence;

    const ws = connectWs(srs, token);
    opened.push(ws);
    const stream = ws.subscribe<TermsEvent>(TERMS_EVENTS, { filter: { refIds: [refId], types: ['TERMS_SENT', 'TERMS_ACCEPTED'], afterSequence: point } });

    const writtenFirst = await connection();
    const writtenSecond = await connection();
    await writtenFirst.query('BEGIN');
    await insertEvent(writtenFirst, orderId, 'TERMS_SENT');
    await writtenSecond.query('BEGIN');
    await insertEvent(writtenSecond, orderId, 'TERMS_ACCEPTED');
    await writtenSecond.query('COMMIT');
    // The stream has delivered the later write before the earlier one commits.
    const [early] = await stream.waitFor(1);
    expect(early.orderEvents.type).toBe('TERMS_ACCEPTED');
    await writtenFirst.query('COMMIT');

    const received = (await stream.waitFor(2)).map((item) => item.orderEvents);
    expect(received.map((event) => event.type)).toEqual(['TERMS_ACCEPTED', 'TERMS_SENT']);
    expect(BigInt(received[1].sequence)).toBeGreaterThan(BigInt(received[0].sequence));
    expect(stream.errors).toEqual([]);
  });
});

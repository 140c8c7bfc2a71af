import pg from 'pg';
import type { SqlRunner } from '../db/adapter.js';
import type { EventBus, Invalidation, OrderEventNotice } from './bus.js';
import { createInProcessEventBus } from './bus.js';

// NOTIFY reaches the sessions listening in the same database only, so these names need no
// prefix per service: services that share a database are one service.
const NOTICE_CHANNEL = 'srs_order_events';
const INVALIDATION_CHANNEL = 'srs_invalidations';
const RECONNECT_MS = 1000;
/** Notices of one event-loop turn go out in one statement. */
const NOTIFY = `SELECT pg_notify(channel, payload) FROM unnest($1::text[], $2::text[]) AS notice(channel, payload)`;

/**
 * Notices through PostgreSQL's LISTEN/NOTIFY, for several processes on one database without
 * Redis. Like Redis pub/sub, delivery is at most once (a listening connection that drops misses
 * what was sent meanwhile; it reconnects by itself), so notices only wake readers of the event
 * table, which also poll it (see feed.ts). Local listeners are told at once; the copy that comes
 * back through PostgreSQL is a harmless second wake-up. Costs one statement per event-loop turn
 * that published something, and one connection per process.
 */
export async function createPostgresEventBus(options: { url: string; database: SqlRunner; onError: (message: string) => void }): Promise<EventBus> {
  const local = createInProcessEventBus();
  let listener: pg.Client | undefined;
  let closed = false;

  const fromDatabase = (message: pg.Notification) => {
    let payload: Partial<OrderEventNotice & Invalidation> | null;
    try {
      payload = JSON.parse(message.payload ?? 'null') as Partial<OrderEventNotice & Invalidation> | null;
    } catch {
      return;
    }
    if (message.channel === NOTICE_CHANNEL && typeof payload?.orderId === 'string' && typeof payload.refId === 'string') {
      local.publish([{ orderId: payload.orderId, refId: payload.refId, clientId: String(payload.clientId), issuer: String(payload.issuer) }]);
    } else if (message.channel === INVALIDATION_CHANNEL && (payload?.kind === 'token' || payload?.kind === 'client') && typeof payload.id === 'string') {
      local.publishInvalidation({ kind: payload.kind, id: payload.id });
    }
  };
  const listen = async () => {
    const client = new pg.Client({ connectionString: options.url });
    client.on('error', (error) => options.onError(`PostgreSQL notices: ${error.message}`));
    client.on('notification', fromDatabase);
    client.on('end', () => {
      if (listener === client) listener = undefined;
      listenLater();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${NOTICE_CHANNEL}; LISTEN ${INVALIDATION_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (closed) return void (await client.end());
    listener = client;
  };
  // One attempt at a time: a failed connection reports both its error and its end, and each
  // scheduling its own retry would multiply the listening connections with every failure.
  let retry: NodeJS.Timeout | undefined;
  const listenLater = () => {
    if (closed || retry) return;
    retry = setTimeout(relisten, RECONNECT_MS);
    retry.unref();
  };
  const relisten = () => {
    retry = undefined;
    if (closed || listener) return;
    listen().catch((error: unknown) => {
      options.onError(`PostgreSQL notices: listening again failed: ${(error as Error).message}`);
      listenLater();
    });
  };
  await listen();

  let pending: Array<{ channel: string; payload: string }> = [];
  let sending: Promise<void> | undefined;
  const flush = () => {
    if (!pending.length) return;
    const batch = pending;
    pending = [];
    sending = options.database
      .query(NOTIFY, [batch.map((notice) => notice.channel), batch.map((notice) => notice.payload)])
      .then(
        () => undefined,
        (error: unknown) => options.onError(`Publishing notices through PostgreSQL failed: ${(error as Error).message}`),
      );
  };
  const send = (channel: string, payload: unknown) => {
    if (closed) return;
    if (!pending.length) setImmediate(flush);
    pending.push({ channel, payload: JSON.stringify(payload) });
  };

  return {
    publish(notices) {
      local.publish(notices);
      for (const { orderId, refId, clientId, issuer } of notices) send(NOTICE_CHANNEL, { orderId, refId, clientId, issuer });
    },
    subscribe: local.subscribe,
    publishInvalidation(invalidation) {
      local.publishInvalidation(invalidation);
      send(INVALIDATION_CHANNEL, invalidation);
    },
    onInvalidation: local.onInvalidation,
    async close() {
      if (pending.length) flush();
      closed = true;
      clearTimeout(retry);
      await sending;
      await local.close();
      await listener?.end();
    },
  };
}

/** Tells every listening process of an invalidation made outside them (the CLI). */
export async function announceInvalidationThroughPostgres(database: SqlRunner, invalidation: Invalidation): Promise<void> {
  await database.query(NOTIFY, [[INVALIDATION_CHANNEL], [JSON.stringify(invalidation)]]);
}

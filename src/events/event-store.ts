// The event pipeline's reads of the event table. The events are written with their order's
// changes (services/order-store.ts, order-transitions.ts); reading them for the subscribers is
// the pipeline's own business. Plain SQL: the feed runs this after every commit.
import type { OrderEvent } from '../generated/prisma/client.js';
import type { SqlRunner } from '../db/adapter.js';
import { dateOf, epochMs, type Row } from '../db/sql-values.js';

/** A stored event with what routing it to its subscribers needs of its order. */
export interface FeedEvent {
  event: OrderEvent;
  refId: string;
  clientId: string;
  issuer: string;
}

type EventRow = Row<OrderEvent, 'at'> & { sequence: string | number | bigint; refId: string; clientId: string; issuer: string };

/** The events committed after `after`, oldest first, each with what routing it needs of its order. */
export async function readEventsAfter(sql: SqlRunner, after: bigint, limit: number): Promise<FeedEvent[]> {
  const rows = await sql.query<EventRow>(
    `SELECT e.id, e.sequence, e."orderId", e.type::text AS type, e.status::text AS status, e."previousStatus"::text AS "previousStatus",
       e.reason, e.actor, ${epochMs('e', 'at')}, o."refId", o."clientId", o.issuer
     FROM "OrderEvent" e JOIN "Order" o ON o.id = e."orderId"
     WHERE e.sequence > $1 ORDER BY e.sequence LIMIT $2`,
    [after.toString(), limit],
  );
  return rows.map(({ refId, clientId, issuer, ...event }) => ({
    event: { ...event, sequence: BigInt(event.sequence), at: dateOf(event.at)! },
    refId,
    clientId,
    issuer,
  }));
}

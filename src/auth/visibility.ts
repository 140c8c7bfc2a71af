// Who may see which orders, in one place and in every form the service asks it in: a Prisma
// `where`, a SQL condition, and a predicate on an order (or event) already in memory. All three
// are derived from one scope, so they cannot drift apart; test/api/visibility.test.ts checks
// that they select the same orders.
import type { Prisma } from '../generated/prisma/client.js';
import type { Viewer } from './viewer.js';

/**
 * The orders a viewer may see: an operator all of them, a partner its issuer's, a service
 * provider its own. An IPSP client without an issuer (which client management refuses) sees
 * none.
 */
type OrderScope = { kind: 'all' } | { kind: 'none' } | { kind: 'where'; column: 'clientId' | 'issuer'; value: string };

function orderScope(viewer: Pick<Viewer, 'role' | 'clientId' | 'issuer'>): OrderScope {
  if (viewer.role === 'ADMIN') return { kind: 'all' };
  if (viewer.role === 'IPSP') return viewer.issuer ? { kind: 'where', column: 'issuer', value: viewer.issuer } : { kind: 'none' };
  return { kind: 'where', column: 'clientId', value: viewer.clientId };
}

/** What the rule reads of an order. */
export type OrderOwnership = { clientId: string; issuer: string };

/** The rule as a Prisma condition on Order. */
export function visibleOrders(viewer: Pick<Viewer, 'role' | 'clientId' | 'issuer'>): Prisma.OrderWhereInput {
  const scope = orderScope(viewer);
  if (scope.kind === 'all') return {};
  // Not on `id`: callers add their own `id` (or `refId`) beside it.
  if (scope.kind === 'none') return { clientId: { in: [] } };
  return { [scope.column]: scope.value };
}

/**
 * The rule as a SQL condition on the "Order" table under `alias`; its one parameter (if any) is
 * appended to `params` and referenced by position.
 */
export function visibleOrdersSql(viewer: Pick<Viewer, 'role' | 'clientId' | 'issuer'>, params: unknown[], alias = 'o'): string {
  const scope = orderScope(viewer);
  if (scope.kind !== 'where') return scope.kind === 'all' ? 'TRUE' : 'FALSE';
  params.push(scope.value);
  return `${alias}."${scope.column}" = $${params.length}`;
}

/** The rule on an order (or an event carrying its order's owner and issuer) already read. */
export function mayView(viewer: Pick<Viewer, 'role' | 'clientId' | 'issuer'>, order: OrderOwnership): boolean {
  const scope = orderScope(viewer);
  return scope.kind === 'all' || (scope.kind === 'where' && order[scope.column] === scope.value);
}

/**
 * The personal data of an identification (the subject, the document) is shown only to the
 * service provider that placed the order: neither the partner that identified the person nor an
 * operator reads it through the API.
 */
export function mayReadPersonalData(viewer: Pick<Viewer, 'clientId'>, order: Pick<OrderOwnership, 'clientId'>): boolean {
  return order.clientId === viewer.clientId;
}

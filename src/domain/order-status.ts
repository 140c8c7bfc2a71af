// The order state machine of domain.md. Plain data and functions: no GraphQL, no Prisma.

export const ORDER_STATUSES = [
  'CREATED',
  'INITIALIZED',
  'IDENTIFICATION_DONE',
  'DATA_READY',
  'TERMINATED',
  'ERROR',
  'NEGATIVELY_CONDUCTED',
  'TIMEOUT',
  'CANCELED',
  'ABORTED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const TERMINAL_STATUSES: readonly OrderStatus[] = ['TERMINATED', 'ERROR', 'NEGATIVELY_CONDUCTED', 'TIMEOUT', 'CANCELED'];

/** Endings every open order can reach, whatever it is doing. */
const FAILURES: OrderStatus[] = ['ERROR', 'NEGATIVELY_CONDUCTED', 'TIMEOUT', 'CANCELED'];

const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  CREATED: ['INITIALIZED', 'ERROR', 'TIMEOUT', 'CANCELED'],
  INITIALIZED: ['IDENTIFICATION_DONE', 'DATA_READY', 'ABORTED', ...FAILURES],
  // The user left; with INTRUM they may come back with the same target URL.
  ABORTED: ['INITIALIZED', 'IDENTIFICATION_DONE', 'DATA_READY', 'ABORTED', ...FAILURES],
  IDENTIFICATION_DONE: ['DATA_READY', 'TERMINATED', ...FAILURES],
  DATA_READY: ['TERMINATED', ...FAILURES],
  TERMINATED: [],
  ERROR: [],
  NEGATIVELY_CONDUCTED: [],
  TIMEOUT: [],
  CANCELED: [],
};

export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[from].includes(to);
}

/**
 * What an IPSP may report with reportIdentificationStatus. CREATED is the service's own, and
 * TERMINATED comes only with the evidence (importEvidence).
 */
/** Every status an order may leave for `to`: canTransition() as a list, for a database query. */
export function statusesThatMayMoveTo(to: OrderStatus): OrderStatus[] {
  return ORDER_STATUSES.filter((from) => canTransition(from, to));
}

export const REPORTABLE_STATUSES: readonly OrderStatus[] = ORDER_STATUSES.filter((status) => status !== 'CREATED' && status !== 'TERMINATED');

/** Statuses from which an IPSP may import evidence. */
export const IMPORTABLE_STATUSES: readonly OrderStatus[] = ['IDENTIFICATION_DONE', 'DATA_READY'];

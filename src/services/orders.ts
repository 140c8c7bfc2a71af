import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Order, OrderStatus, PrismaClient } from '../generated/prisma/client.js';
import type { Viewer } from '../auth/viewer.js';
import { visibleOrders } from '../auth/visibility.js';
import type { Config } from '../config.js';
import { logForOrder } from '../observability/log.js';
import { validateInitialData, type InitialIdentityDataInput } from '../domain/initial-data.js';
import { IMPORTABLE_STATUSES, isTerminal, REPORTABLE_STATUSES } from '../domain/order-status.js';
import { evidenceValidUntil, validateEvidenceImport, type EvidenceImportInput } from '../domain/evidence.js';
import { failed, ok, userError, type Result } from '../domain/user-errors.js';
import { asDefinition } from './methods.js';
import { personalDataDigest, type EvidenceSigner } from '../crypto/evidence-signing.js';
import { openTerms } from './terms.js';
import { termsAcceptedInApp } from '../domain/terms.js';
import { transitionOrder } from './order-transitions.js';
import { findMethod, findOrderByIdempotencyKey, insertCreatedOrder, insertEvidence } from './order-store.js';
import { looksInterrupted, recoverInterruptedOrders, type RecoveryDeps } from './order-recovery.js';
import { openAtPartner } from './order-opening.js';

/** Placing an order may recover its interrupted first request (see replay), so it needs all that needs. */
export interface OrderServiceDeps extends RecoveryDeps {
  /** The API's reads of orders (with their relations); writes go through the order store. */
  prisma: PrismaClient;
  config: Config;
  evidenceSigner: EvidenceSigner;
  /** Wakes the SMS outbox after a T&C SMS was queued. */
  onSmsQueued: () => void;
}

export interface PlaceOrderInput {
  /** The method's database id (the GraphQL layer decodes the global id). */
  methodId: string | null;
  initialData?: InitialIdentityDataInput | null;
  externalId?: string | null;
  language?: string | null;
  disabledSmsAlerts?: boolean | null;
  idempotencyKey?: string | null;
}

const MAX_REASON_LENGTH = 2000;
const MAX_EXTERNAL_ID_LENGTH = 200;
const REPLAY_WAIT_MS = 15_000;
const REPLAY_POLL_MS = 25;

function newRefId(): string {
  // Crockford-style base32 without look-alikes: easy to read out to support.
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const bytes = randomBytes(16);
  let id = '';
  for (let i = 0; i < 16; i++) id += alphabet[bytes[i] % 32];
  return `SRS-${id.slice(0, 8)}-${id.slice(8)}`;
}

/**
 * Places an order: validates it against the method, stores it as CREATED, opens it at the
 * partner and moves it to INITIALIZED (or ERROR with the partner's reason). A rejected order
 * stores nothing; a repeated idempotency key returns the first order.
 */
export async function placeOrder(deps: OrderServiceDeps, viewer: Viewer, input: PlaceOrderInput): Promise<Result<Order>> {
  const methodField = ['input', 'methodId'];
  const method = input.methodId ? await findMethod(deps.database, input.methodId) : null;
  if (!method) return failed(userError('METHOD_NOT_FOUND', 'No identification method has this id.', methodField));
  if (!method.enabled) {
    const why = method.testOnly
      ? 'The TEST method exists only while the service runs in test mode.'
      : deps.connectors(method.issuer)
        ? 'This method is currently disabled.'
        : `No partner of ${method.issuer} is connected to this service: its methods cannot be ordered here.`;
    return failed(userError('METHOD_UNAVAILABLE', why, methodField));
  }
  const definition = asDefinition(method);
  const { data, errors } = validateInitialData(definition, input.initialData, input.language);
  const externalId = input.externalId?.trim() || null;
  if (externalId && externalId.length > MAX_EXTERNAL_ID_LENGTH) {
    errors.push(userError('INVALID_INPUT', `externalId is longer than ${MAX_EXTERNAL_ID_LENGTH} characters.`, ['input', 'externalId']));
  } else if (externalId?.includes('\u0000')) {
    // PostgreSQL text cannot hold NUL: refused here, or the insert fails with a 500.
    errors.push(userError('INVALID_INPUT', 'externalId must not contain NUL characters.', ['input', 'externalId']));
  }
  const idempotencyKey = input.idempotencyKey?.trim() || null;
  if (idempotencyKey && idempotencyKey.length > 200) {
    errors.push(userError('INVALID_INPUT', 'idempotencyKey is longer than 200 characters.', ['input', 'idempotencyKey']));
  } else if (idempotencyKey?.includes('\u0000')) {
    errors.push(userError('INVALID_INPUT', 'idempotencyKey must not contain NUL characters.', ['input', 'idempotencyKey']));
  }
  if (errors.length) return failed(...errors);

  const disabledSmsAlerts = input.disabledSmsAlerts ?? false;
  const requestHash = createHash('sha256')
    .update(JSON.stringify({ methodId: method.id, data, externalId, disabledSmsAlerts }))
    .digest('hex');
  // A repeated idempotency key is found by the insert itself, which then stores nothing: one
  // statement for a new order instead of a look-up first.
  const createdAt = new Date();
  const created = await insertCreatedOrder(
    deps.database,
    {
      refId: newRefId(),
      clientId: viewer.clientId,
      methodId: method.id,
      issuer: method.issuer,
      externalId,
      language: data.language ?? null,
      disabledSmsAlerts,
      initialDataSealed: deps.dataProtection.seal(data),
      idempotencyKey,
      requestHash,
      targetUrlExpiresAt: method.targetUrlValiditySeconds ? new Date(createdAt.getTime() + method.targetUrlValiditySeconds * 1000) : null,
      createdAt,
    },
    viewer.clientId,
  );
  if (!created) {
    // An earlier request (or a concurrent one that won the race) has this key: a replay.
    const previous = await findOrderByIdempotencyKey(deps.database, viewer.clientId, idempotencyKey!);
    if (!previous) throw new Error(`Order with idempotency key ${idempotencyKey} was neither stored nor found.`);
    return replay(deps, previous, requestHash);
  }
  deps.bus.publish([{ orderId: created.id, refId: created.refId, clientId: created.clientId, issuer: created.issuer }]);
  logForOrder(created.refId).info({ issuer: created.issuer, externalId }, 'order placed');
  return openAtPartner(deps, created, definition.name, data);
}

/**
 * The answer to a repeated idempotency key: the first order, once the request that stored it has
 * opened it at the partner. A client that repeats a request it gave up on must get what the first
 * one gets (the target URL), not the order still CREATED; the first request may run on any
 * process, so the stored order is read again until it moves on. An order whose opener died (it
 * has been CREATED for longer than the recovery grace) is opened again here at once, as the
 * recovery job would (see order-recovery.ts).
 */
async function replay(deps: OrderServiceDeps, previous: Order, requestHash: string): Promise<Result<Order>> {
  if (previous.requestHash === requestHash) {
    let order = previous;
    for (const deadline = Date.now() + REPLAY_WAIT_MS; order.status === 'CREATED' && Date.now() < deadline; ) {
      if (looksInterrupted(order, deps.config.orderRecoveryGraceSeconds)) await recoverInterruptedOrders(deps, { orderId: order.id });
      else await sleep(REPLAY_POLL_MS);
      order = (await findOrderByIdempotencyKey(deps.database, previous.clientId, previous.idempotencyKey!)) ?? order;
    }
    return ok(order);
  }
  return failed(
    userError('IDEMPOTENCY_CONFLICT', `This idempotencyKey was used for order ${previous.refId} with different input.`, ['input', 'idempotencyKey']),
  );
}

/** A service provider cancels one of its open orders, here and at the partner. */
export async function cancelOrder(deps: OrderServiceDeps, viewer: Viewer, input: { refId: string; reason?: string | null }): Promise<Result<Order>> {
  const order = await deps.prisma.order.findFirst({ where: { refId: input.refId, ...visibleOrders(viewer) } });
  if (!order) return failed(userError('ORDER_NOT_FOUND', `No order ${input.refId} of yours.`, ['input', 'refId']));
  if (isTerminal(order.status)) return failed(userError('ILLEGAL_TRANSITION', `Order ${order.refId} has already ended (${order.status}).`, ['input', 'refId']));
  const reason = input.reason?.trim().slice(0, MAX_REASON_LENGTH) || 'Canceled by the service provider.';
  const result = await transitionOrder(deps, { orderId: order.id, to: 'CANCELED', reason, actor: viewer.clientId });
  if (result.ok && order.ipspOrderId && order.orderToken) {
    // The order is cancelled here whatever the partner says; a partner that cannot be reached
    // ends its side by the target URL's expiry or the revoked token.
    await deps.connectors(order.issuer)
      ?.cancelOrder({ refId: order.refId, ipspOrderId: order.ipspOrderId, orderToken: deps.orderTokens.openSecret(order.orderToken) })
      .catch((error: unknown) => logForOrder(order.refId).warn({ err: error, issuer: order.issuer }, 'cancelling the order at the partner failed'));
  }
  if (result.ok && order.orderToken) await deps.orderTokens.revoke(order.orderToken);
  return result;
}

/** A partner reports progress or a failure of one of its issuer's orders. */
export async function reportIdentificationStatus(
  deps: OrderServiceDeps,
  viewer: Viewer,
  input: { refId: string; status: OrderStatus; reason?: string | null; ipspOrderId?: string | null },
): Promise<Result<Order>> {
  const order = await deps.prisma.order.findFirst({ where: { refId: input.refId, ...visibleOrders(viewer) } });
  if (!order) return failed(userError('ORDER_NOT_FOUND', `No order ${input.refId} of your issuer.`, ['input', 'refId']));
  if (!REPORTABLE_STATUSES.includes(input.status)) {
    const hint = input.status === 'TERMINATED' ? ' TERMINATED comes with the evidence: use importEvidence.' : '';
    return failed(userError('INVALID_INPUT', `A partner cannot report ${input.status}.${hint}`, ['input', 'status']));
  }
  if (input.ipspOrderId && order.ipspOrderId && input.ipspOrderId !== order.ipspOrderId) {
    return failed(userError('INVALID_INPUT', `Order ${order.refId} has another IPSP order id.`, ['input', 'ipspOrderId']));
  }
  if (input.reason && input.reason.length > MAX_REASON_LENGTH) {
    return failed(userError('INVALID_INPUT', `reason is longer than ${MAX_REASON_LENGTH} characters.`, ['input', 'reason']));
  }
  const result = await transitionOrder(deps, {
    orderId: order.id,
    to: input.status,
    reason: input.reason ?? null,
    actor: viewer.clientId,
    data: { lastActivityAt: new Date(), ...(order.ipspOrderId ? {} : { ipspOrderId: input.ipspOrderId ?? null }) },
  });
  if (result.ok && isTerminal(input.status) && order.orderToken) await deps.orderTokens.revoke(order.orderToken);
  return result;
}

/** A partner imports the evidence of a finished identification; the order becomes TERMINATED. */
export async function importEvidence(
  deps: OrderServiceDeps,
  viewer: Viewer,
  input: EvidenceImportInput & { refId: string; termsAcceptedInApp?: boolean | null },
): Promise<Result<{ order: Order; evidenceId: string }>> {
  const order = await deps.prisma.order.findFirst({ where: { refId: input.refId, ...visibleOrders(viewer) }, include: { method: true } });
  if (!order) return failed(userError('ORDER_NOT_FOUND', `No order ${input.refId} of your issuer.`, ['input', 'refId']));
  if (!IMPORTABLE_STATUSES.includes(order.status)) {
    return failed(userError('ILLEGAL_TRANSITION', `Evidence can be imported in ${IMPORTABLE_STATUSES.join(' or ')}; order ${order.refId} is ${order.status}.`, ['input', 'refId']));
  }
  const { value, errors } = validateEvidenceImport(input);
  const method = asDefinition(order.method);
  const terms = termsAcceptedInApp(method, input.termsAcceptedInApp);
  if ('problem' in terms) errors.push(userError('INVALID_INPUT', terms.problem, ['input', 'termsAcceptedInApp']));
  if (!value || 'problem' in terms) return failed(...errors);
  const evidenceId = randomUUID();
  const validUntil = evidenceValidUntil(value.identifiedAt, method.evidenceValidityMonths, value.document.validUntil);
  const personalData = { mobileNumber: value.mobileNumber, subject: value.subject, document: value.document };
  const jws = await deps.evidenceSigner.sign({
    sub: evidenceId,
    ref: order.refId,
    method: method.name,
    issuer: order.issuer,
    capabilities: method.capabilities,
    identified_at: value.identifiedAt.toISOString(),
    valid_until: validUntil.toISOString(),
    personal_data_digest: personalDataDigest(personalData),
  });
  const result = await transitionOrder(deps, {
    orderId: order.id,
    to: 'TERMINATED',
    actor: viewer.clientId,
    data: { lastActivityAt: new Date() },
    alongside: async (sql, terminated) => {
      await insertEvidence(sql, {
        id: evidenceId,
        orderId: order.id,
        mobileNumberHash: deps.dataProtection.lookupHash(value.mobileNumber),
        mobileNumberSealed: deps.dataProtection.seal(value.mobileNumber),
        personalDataSealed: deps.dataProtection.seal({ subject: value.subject, document: value.document }),
        issuer: order.issuer,
        methodName: method.name,
        capabilities: method.capabilities,
        identifiedAt: value.identifiedAt,
        validUntil,
        jws,
      });
      const termsEvents = await openTerms(sql, { ...deps.config, dataProtection: deps.dataProtection }, {
        evidenceId,
        order: terminated,
        mobileNumber: value.mobileNumber,
        acceptedInApp: terms.acceptedInApp,
        actor: viewer.clientId,
      });
      return { events: [{ type: 'EVIDENCE_IMPORTED', status: 'TERMINATED', previousStatus: 'TERMINATED', actor: viewer.clientId }, ...termsEvents] };
    },
  });
  if (result.ok) deps.onSmsQueued();
  if (!result.ok) return result;
  if (order.orderToken) await deps.orderTokens.revoke(order.orderToken);
  return ok({ order: result.value, evidenceId });
}

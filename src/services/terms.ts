import { createHash, randomBytes } from 'node:crypto';
import type { Order, PrismaClient, TermsAcceptance } from '../generated/prisma/client.js';
import type { Viewer } from '../auth/viewer.js';
import type { DataProtection } from '../crypto/data-protection.js';
import type { EventBus } from '../events/bus.js';
import type { DatabaseHandle, SqlRunner } from '../db/adapter.js';
import { effectiveTermsStatus, termsChannelFor } from '../domain/terms.js';
import { termsSmsText } from '../sms/texts.js';
import { failed, ok, userError, type Result } from '../domain/user-errors.js';
import { decideTerms, insertTermsAcceptance, writeOrderEvents, type NewOrderEvent, type TermsDecision } from './order-store.js';
import { queueSms } from '../sms/outbox.js';
import { visibleOrders } from '../auth/visibility.js';

export interface TermsDeps {
  /** Reads of T&C with their orders. */
  prisma: PrismaClient;
  /** Decisions are written through the order store in its transactions. */
  database: Pick<DatabaseHandle, 'transaction'>;
  bus: EventBus;
  dataProtection: DataProtection;
  publicUrl: string;
  termsVersion: string;
  termsLinkTtlHours: number;
  /** Called after a T&C SMS was queued, so the outbox sends it without waiting for its sweep. */
  onSmsQueued: () => void;
}

const hashLinkToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Inside the evidence import's transaction: records how the T&C will be collected and, for the
 * SMS channel, queues the personal single-use link in the outbox. Returns the events to write.
 */
export async function openTerms(
  sql: SqlRunner,
  deps: Pick<TermsDeps, 'dataProtection' | 'publicUrl' | 'termsVersion' | 'termsLinkTtlHours'>,
  args: { evidenceId: string; order: Order; mobileNumber: string; acceptedInApp: boolean; actor: string },
): Promise<NewOrderEvent[]> {
  const channel = termsChannelFor({ acceptedInApp: args.acceptedInApp, disabledSmsAlerts: args.order.disabledSmsAlerts });
  const terms = { evidenceId: args.evidenceId, channel, termsVersion: deps.termsVersion };
  if (channel === 'IN_APP') {
    await insertTermsAcceptance(sql, { ...terms, status: 'ACCEPTED', decidedAt: new Date() });
    return [{ type: 'TERMS_ACCEPTED', status: 'TERMINATED', previousStatus: 'TERMINATED', reason: 'Accepted in the partner’s app', actor: args.actor }];
  }
  if (channel === 'SERVICE_PROVIDER') {
    await insertTermsAcceptance(sql, { ...terms, status: 'PENDING' });
    return [];
  }
  const token = randomBytes(24).toString('base64url');
  const link = `${deps.publicUrl}/terms/${token}`;
  const linkExpiresAt = new Date(Date.now() + deps.termsLinkTtlHours * 60 * 60 * 1000);
  const termsId = await insertTermsAcceptance(sql, { ...terms, status: 'PENDING', linkTokenHash: hashLinkToken(token), linkExpiresAt });
  await queueSms(sql, {
    termsId,
    recipientSealed: deps.dataProtection.seal(args.mobileNumber),
    textSealed: deps.dataProtection.seal(termsSmsText(args.order.language, link, linkExpiresAt)),
  });
  return [];
}

/** `language`: the order's, which its pages are shown in. */
export type TermsLinkState =
  | { state: 'open'; terms: TermsAcceptance; language: string | null }
  | { state: 'decided' | 'expired'; language: string | null }
  | { state: 'unknown' };

/** What a T&C link leads to. */
export async function findTermsByLink(prisma: PrismaClient, token: string): Promise<TermsLinkState> {
  const found = await prisma.termsAcceptance.findUnique({
    where: { linkTokenHash: hashLinkToken(token) },
    include: { evidence: { select: { order: { select: { language: true } } } } },
  });
  if (!found) return { state: 'unknown' };
  const { evidence, ...terms } = found;
  const language = evidence.order.language;
  if (terms.status !== 'PENDING') return { state: 'decided', language };
  if (effectiveTermsStatus(terms) === 'EXPIRED') return { state: 'expired', language };
  return { state: 'open', terms, language };
}

async function recordDecision(
  deps: Pick<TermsDeps, 'database' | 'bus'>,
  decision: Omit<TermsDecision, 'now'> & { actor: string },
): Promise<TermsAcceptance | null> {
  const outcome = await deps.database.transaction(async (sql) => {
    const decided = await decideTerms(sql, { ...decision, now: new Date() });
    if (!decided) return null;
    const { order } = decided;
    const notices = await writeOrderEvents(sql, order, [
      { type: decision.accepted ? 'TERMS_ACCEPTED' : 'TERMS_DECLINED', status: order.status, previousStatus: order.status, actor: decision.actor },
    ]);
    return { terms: decided.terms, notices };
  });
  if (!outcome) return null;
  deps.bus.publish(outcome.notices);
  return outcome.terms;
}

/** The end user's decision on the T&C page; the link is used up by it. */
export function decideByLink(
  deps: Pick<TermsDeps, 'database' | 'bus' | 'termsVersion'>,
  token: string,
  accepted: boolean,
  client: { ip: string; userAgent: string },
): Promise<TermsAcceptance | null> {
  const clientFingerprint = createHash('sha256').update(`${client.ip}\n${client.userAgent}`).digest('base64url');
  return recordDecision(deps, { where: { linkTokenHash: hashLinkToken(token) }, accepted, termsVersion: deps.termsVersion, actor: 'end-user', clientFingerprint });
}

/** A service provider records the decision it collected for one of its silent-SMS orders. */
export async function recordTermsDecisionBySp(
  deps: Pick<TermsDeps, 'prisma' | 'database' | 'bus'>,
  viewer: Viewer,
  input: { refId: string; accepted: boolean; termsVersion: string },
): Promise<Result<TermsAcceptance>> {
  const field = ['input', 'refId'];
  const version = input.termsVersion.trim();
  if (!version || version.length > 50) return failed(userError('INVALID_INPUT', 'termsVersion must be 1 to 50 characters.', ['input', 'termsVersion']));
  const order = await deps.prisma.order.findFirst({ where: { refId: input.refId, ...visibleOrders(viewer) }, include: { evidence: { include: { terms: true } } } });
  if (!order) return failed(userError('ORDER_NOT_FOUND', `No order ${input.refId} of yours.`, field));
  if (!order.disabledSmsAlerts) return failed(userError('FORBIDDEN', 'Only orders placed with disabledSmsAlerts have their T&C recorded by the service provider.', field));
  const terms = order.evidence?.terms;
  if (!terms) return failed(userError('ILLEGAL_TRANSITION', `Order ${order.refId} has no evidence yet (${order.status}).`, field));
  if (terms.status !== 'PENDING') return failed(userError('ILLEGAL_TRANSITION', `The T&C of order ${order.refId} were already ${terms.status}.`, field));
  const decided = await recordDecision(deps, { where: { id: terms.id }, accepted: input.accepted, termsVersion: version, actor: viewer.clientId, clientFingerprint: null });
  return decided ? ok(decided) : failed(userError('ILLEGAL_TRANSITION', 'The T&C were decided meanwhile.', field));
}

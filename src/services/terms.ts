import { createHash, randomBytes } from 'node:crypto';
import type { Order, Prisma, PrismaClient, TermsAcceptance } from '../generated/prisma/client.js';
import type { Viewer } from '../auth/viewer.js';
import type { DataProtection } from '../crypto/data-protection.js';
import type { EventBus, OrderEventNotice } from '../events/bus.js';
import { effectiveTermsStatus, termsChannelFor } from '../domain/terms.js';
import { termsSmsText } from '../sms/texts.js';
import { failed, ok, userError, type Result } from '../domain/user-errors.js';
import { writeOrderEvents, type NewOrderEvent } from './order-transitions.js';
import { visibleOrders } from '../auth/visibility.js';

type Tx = Prisma.TransactionClient;

export interface TermsDeps {
  prisma: PrismaClient;
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
  tx: Tx,
  deps: Pick<TermsDeps, 'dataProtection' | 'publicUrl' | 'termsVersion' | 'termsLinkTtlHours'>,
  args: { evidenceId: string; order: Order; mobileNumber: string; acceptedInApp: boolean; actor: string },
): Promise<NewOrderEvent[]> {
  const channel = termsChannelFor({ acceptedInApp: args.acceptedInApp, disabledSmsAlerts: args.order.disabledSmsAlerts });
  if (channel === 'IN_APP') {
    await tx.termsAcceptance.create({
      data: { evidenceId: args.evidenceId, status: 'ACCEPTED', channel, termsVersion: deps.termsVersion, decidedAt: new Date() },
    });
    return [{ type: 'TERMS_ACCEPTED', status: 'TERMINATED', previousStatus: 'TERMINATED', reason: 'Accepted in the partner’s app', actor: args.actor }];
  }
  if (channel === 'SERVICE_PROVIDER') {
    await tx.termsAcceptance.create({ data: { evidenceId: args.evidenceId, status: 'PENDING', channel, termsVersion: deps.termsVersion } });
    return [];
  }
  const token = randomBytes(24).toString('base64url');
  const link = `${deps.publicUrl}/terms/${token}`;
  const linkExpiresAt = new Date(Date.now() + deps.termsLinkTtlHours * 60 * 60 * 1000);
  await tx.termsAcceptance.create({
    data: {
      evidenceId: args.evidenceId,
      status: 'PENDING',
      channel,
      termsVersion: deps.termsVersion,
      linkTokenHash: hashLinkToken(token),
      linkExpiresAt,
      sms: {
        create: {
          recipientSealed: deps.dataProtection.seal(args.mobileNumber),
          textSealed: deps.dataProtection.seal(termsSmsText(args.order.language, link, linkExpiresAt)),
        },
      },
    },
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
  deps: Pick<TermsDeps, 'prisma' | 'bus'>,
  where: Prisma.TermsAcceptanceWhereInput,
  decision: { accepted: boolean; termsVersion: string; actor: string; clientFingerprint?: string },
): Promise<TermsAcceptance | null> {
  const outcome = await deps.prisma.$transaction(async (tx) => {
    const terms = await tx.termsAcceptance.findFirst({ where: { ...where, status: 'PENDING' }, include: { evidence: { include: { order: true } } } });
    if (!terms || effectiveTermsStatus(terms) !== 'PENDING') return null;
    // Guarded on PENDING, so two concurrent decisions cannot both win.
    const changed = await tx.termsAcceptance.updateMany({
      where: { id: terms.id, status: 'PENDING' },
      data: {
        status: decision.accepted ? 'ACCEPTED' : 'DECLINED',
        termsVersion: decision.termsVersion,
        decidedAt: new Date(),
        linkTokenHash: null,
        clientFingerprint: decision.clientFingerprint ?? null,
      },
    });
    if (changed.count !== 1) return null;
    const order = terms.evidence.order;
    const notices: OrderEventNotice[] = await writeOrderEvents(tx, order, [
      { type: decision.accepted ? 'TERMS_ACCEPTED' : 'TERMS_DECLINED', status: order.status, previousStatus: order.status, actor: decision.actor },
    ]);
    return { terms: await tx.termsAcceptance.findUniqueOrThrow({ where: { id: terms.id } }), notices };
  });
  if (!outcome) return null;
  deps.bus.publish(outcome.notices);
  return outcome.terms;
}

/** The end user's decision on the T&C page; the link is used up by it. */
export function decideByLink(
  deps: Pick<TermsDeps, 'prisma' | 'bus' | 'termsVersion'>,
  token: string,
  accepted: boolean,
  client: { ip: string; userAgent: string },
): Promise<TermsAcceptance | null> {
  const clientFingerprint = createHash('sha256').update(`${client.ip}\n${client.userAgent}`).digest('base64url');
  return recordDecision(deps, { linkTokenHash: hashLinkToken(token) }, { accepted, termsVersion: deps.termsVersion, actor: 'end-user', clientFingerprint });
}

/** A service provider records the decision it collected for one of its silent-SMS orders. */
export async function recordTermsDecisionBySp(
  deps: Pick<TermsDeps, 'prisma' | 'bus'>,
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
  const decided = await recordDecision(deps, { id: terms.id }, { accepted: input.accepted, termsVersion: version, actor: viewer.clientId });
  return decided ? ok(decided) : failed(userError('ILLEGAL_TRANSITION', 'The T&C were decided meanwhile.', field));
}

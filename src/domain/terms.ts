// T&C rules. Plain functions: no GraphQL, no Prisma.

export type TermsStatus = 'NOT_REQUIRED' | 'PENDING' | 'ACCEPTED' | 'DECLINED' | 'EXPIRED';
export type TermsChannel = 'SMS_LINK' | 'IN_APP' | 'SERVICE_PROVIDER';

/**
 * How the T&C of a new evidence are collected: in the partner's app (already accepted), by the
 * service provider in its own signing flow (silent SMS), or by a link sent by SMS.
 */
export function termsChannelFor(options: { acceptedInApp: boolean; disabledSmsAlerts: boolean }): TermsChannel {
  if (options.acceptedInApp) return 'IN_APP';
  if (options.disabledSmsAlerts) return 'SERVICE_PROVIDER';
  return 'SMS_LINK';
}

/** The status as callers see it: an unanswered link past its expiry is EXPIRED. */
export function effectiveTermsStatus(terms: { status: TermsStatus; linkExpiresAt: Date | null }, now: Date = new Date()): TermsStatus {
  if (terms.status === 'PENDING' && terms.linkExpiresAt && terms.linkExpiresAt <= now) return 'EXPIRED';
  return terms.status;
}

export function termsSmsText(link: string): string {
  return `Your identification for electronic signatures is complete. Please read and accept the terms of use: ${link}`;
}

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

/**
 * Whether the T&C of a new evidence count as accepted in the partner's app. A method whose app
 * collects them (before the identification: a user who declines is not identified) always has
 * them; any other method sends them by SMS, and its partner cannot claim otherwise. Only the
 * TEST method lets its partner choose, so testers can try both. `problem` says why a claim is
 * refused.
 */
export function termsAcceptedInApp(
  method: { name: string; issuer: string; termsInApp: boolean; testOnly: boolean },
  claimed: boolean | null | undefined,
): { acceptedInApp: boolean } | { problem: string } {
  if (claimed === null || claimed === undefined || claimed === method.termsInApp) return { acceptedInApp: method.termsInApp };
  if (method.testOnly) return { acceptedInApp: claimed };
  return claimed
    ? { problem: `The T&C of ${method.name} (${method.issuer}) are collected by SMS after the identification; its partner cannot report them accepted in its app.` }
    : { problem: `The app of ${method.name} (${method.issuer}) collects the T&C before the identification; evidence without them cannot be imported.` };
}

/** The status as callers see it: an unanswered link past its expiry is EXPIRED. */
export function effectiveTermsStatus(terms: { status: TermsStatus; linkExpiresAt: Date | null }, now: Date = new Date()): TermsStatus {
  if (terms.status === 'PENDING' && terms.linkExpiresAt && terms.linkExpiresAt <= now) return 'EXPIRED';
  return terms.status;
}

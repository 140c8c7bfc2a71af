// What an attempt's outcome means for its delivery: plain rules, unit-tested.

/** What one attempt came to: an HTTP answer, or no answer at all (refused, unreachable, timed out). */
export type AttemptOutcome =
  | { kind: 'response'; status: number; retryAfter?: string; excerpt: string }
  | { kind: 'error'; message: string };

export interface NextStep {
  status: 'PENDING' | 'DELIVERED' | 'FAILED';
  nextAttemptAt: Date | null;
  lastResponseStatus: number | null;
  lastError: string | null;
  /** The receiver answered 410 Gone: it wants no more webhooks at this URL. */
  disableEndpoint: boolean;
}

/** The longest wait a Retry-After may ask for: a day. */
const MAX_RETRY_AFTER_SECONDS = 86_400;
const MAX_ERROR_LENGTH = 300;

/** Seconds from a Retry-After value (seconds or an HTTP date), or undefined when absent or malformed. */
export function retryAfterSeconds(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  const seconds = /^\d+$/.test(trimmed) ? Number(trimmed) : (Date.parse(trimmed) - now.getTime()) / 1000;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(0, seconds), MAX_RETRY_AFTER_SECONDS);
}

/**
 * After attempt number `attempts` (1 for the first): delivered on a 2xx; failed for good on 410
 * (and the endpoint disabled) or when the schedule has no further delay; otherwise due again
 * after the schedule's next delay, or after the receiver's Retry-After on 429 and 503.
 */
export function nextStep(outcome: AttemptOutcome, attempts: number, scheduleSeconds: readonly number[], now: Date): NextStep {
  const responseStatus = outcome.kind === 'response' ? outcome.status : null;
  if (responseStatus !== null && responseStatus >= 200 && responseStatus < 300) {
    return { status: 'DELIVERED', nextAttemptAt: null, lastResponseStatus: responseStatus, lastError: null, disableEndpoint: false };
  }
  const lastError = describe(outcome);
  if (responseStatus === 410) {
    return { status: 'FAILED', nextAttemptAt: null, lastResponseStatus: 410, lastError, disableEndpoint: true };
  }
  if (attempts >= scheduleSeconds.length) {
    return { status: 'FAILED', nextAttemptAt: null, lastResponseStatus: responseStatus, lastError, disableEndpoint: false };
  }
  const asked = outcome.kind === 'response' && (outcome.status === 429 || outcome.status === 503) ? retryAfterSeconds(outcome.retryAfter, now) : undefined;
  const delaySeconds = asked ?? scheduleSeconds[attempts];
  return { status: 'PENDING', nextAttemptAt: new Date(now.getTime() + delaySeconds * 1000), lastResponseStatus: responseStatus, lastError, disableEndpoint: false };
}

function describe(outcome: AttemptOutcome): string {
  const text = outcome.kind === 'response' ? `HTTP ${outcome.status}${outcome.excerpt ? `: ${outcome.excerpt}` : ''}` : outcome.message;
  // Control characters from a receiver's answer have no place in an API answer or a log.
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, MAX_ERROR_LENGTH);
}

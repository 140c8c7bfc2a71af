// The security headers of every answer, set in one place (src/http/request-handler.ts) before any route runs.
import type http from 'node:http';

/**
 * The policy of the service's own HTML pages (T&C, the partner simulators): no script, no
 * outside resource, forms posted to this service (or to a partner's return address), and
 * never inside a frame, so nobody can overlay the Accept button of a page (clickjacking).
 */
export const PAGE_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'";

/**
 * What every other answer gets: JSON, and GraphiQL, whose page loads its scripts from elsewhere;
 * none of them may be framed.
 */
const DEFAULT_CONTENT_SECURITY_POLICY = "frame-ancestors 'none'";

/** A year, as browsers expect for HSTS. */
const HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600;

/**
 * Sets the headers every answer carries; a page with other needs replaces the policy with
 * setContentSecurityPolicy. HSTS only when the service is reached over https (PUBLIC_URL).
 */
export function applySecurityHeaders(response: http.ServerResponse, options: { https: boolean }): void {
  response.setHeader('content-security-policy', DEFAULT_CONTENT_SECURITY_POLICY);
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('x-frame-options', 'DENY');
  // Links of this service carry secrets in their path (T&C links, order tokens): never pass them on.
  response.setHeader('referrer-policy', 'no-referrer');
  if (options.https) response.setHeader('strict-transport-security', `max-age=${HSTS_MAX_AGE_SECONDS}`);
}

/** The per-page hook: the policy of one answer (by default the HTML pages' policy). */
export function setContentSecurityPolicy(response: http.ServerResponse, policy: string = PAGE_CONTENT_SECURITY_POLICY): void {
  response.setHeader('content-security-policy', policy);
}

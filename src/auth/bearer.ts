import { GraphQLError } from 'graphql';
import type Provider from 'oidc-provider';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Viewer } from './viewer.js';
import type { Scope } from './scopes.js';
import { orderClaimsOf } from './order-tokens.js';
import { findClient } from './client-store.js';

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: 'UNAUTHENTICATED',
      http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } },
    },
  });
}

/**
 * Resolves an `Authorization: Bearer …` header to the client behind it. A missing, unknown,
 * expired or revoked token, or one of a disabled client, is UNAUTHENTICATED.
 */
export async function authenticateBearer(provider: Provider, prisma: PrismaClient, authorization: string | null | undefined): Promise<Viewer> {
  const accessToken = tokenOf(authorization);
  const token = await provider.ClientCredentials.find(accessToken);
  if (!token) throw unauthenticated('The access token is unknown, expired or revoked.');
  // Order tokens travel in target URLs to end users and partners; they open no API.
  if (orderClaimsOf(token.extra)) throw unauthenticated('An order token is not an API access token.');
  // oidc-provider issues a client-credentials token only to a client, so it always names one.
  const client = await findClient(prisma, token.clientId!);
  if (!client?.enabled) throw unauthenticated('The client of this access token is disabled.');
  return {
    clientId: client.id,
    name: client.name,
    role: client.role,
    issuer: client.issuer,
    scopes: [...token.scopes].filter((scope) => client.scopes.includes(scope)) as Scope[],
    tokenExpiresAt: new Date((token.exp ?? 0) * 1000),
    accessToken,
  };
}

function tokenOf(authorization: string | null | undefined): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) throw unauthenticated('Send an OAuth2 access token: Authorization: Bearer <token>.');
  return match[1];
}

/** Bearer authentication with the answers for recently seen tokens kept in memory. */
export interface BearerAuthenticator {
  authenticate(authorization: string | null | undefined): Promise<Viewer>;
  /** Whether a token still authenticates: subscriptions re-check while they run. */
  stillValid(accessToken: string): Promise<boolean>;
  /** A token was revoked (here, or on another process). */
  forgetToken(accessToken: string): void;
  /** A client was disabled (its tokens are gone from the database). */
  forgetClient(clientId: string): void;
}

const MAX_CACHED_TOKENS = 50_000;

/**
 * Every API request and every running subscription proves its token. Checking it costs two
 * queries (the token, its client), the largest part of a cheap request such as `lookup`; so a
 * successful check is kept for `cacheSeconds` (never past the token's expiry). Revocation
 * through this process, and invalidations other processes publish through the broker, remove
 * the entry at once; a revocation that reaches no broker (several processes without Redis)
 * takes effect within `cacheSeconds`. Failed checks are never kept.
 */
export function createBearerAuthenticator(deps: { provider: Provider; prisma: PrismaClient; cacheSeconds: number }): BearerAuthenticator {
  const checked = new Map<string, { viewer: Viewer; until: number }>();
  // A check that read the database before an invalidation arrived must not be kept after it.
  let invalidations = 0;
  // Checks of one token already under way: under load thousands of subscriptions re-check the
  // same token at once, and each must not become a query of its own.
  const inFlight = new Map<string, Promise<Viewer>>();
  const authenticate = async (authorization: string | null | undefined) => {
    const accessToken = tokenOf(authorization);
    const hit = checked.get(accessToken);
    if (hit && hit.until > Date.now()) return hit.viewer;
    if (hit) checked.delete(accessToken);
    const pending = inFlight.get(accessToken);
    if (pending) return pending;
    const invalidationsBefore = invalidations;
    const lookup = authenticateBearer(deps.provider, deps.prisma, `Bearer ${accessToken}`).then((viewer) => {
      if (deps.cacheSeconds > 0 && invalidations === invalidationsBefore) {
        // Maps iterate in insertion order: dropping the first entry drops the oldest.
        if (checked.size >= MAX_CACHED_TOKENS) checked.delete(checked.keys().next().value!);
        // Counted from the answer, not the question: a check that waited long under load must
        // not arrive already expired (every later request would query again).
        checked.set(accessToken, { viewer, until: Math.min(Date.now() + deps.cacheSeconds * 1000, viewer.tokenExpiresAt.getTime()) });
      }
      return viewer;
    });
    inFlight.set(accessToken, lookup);
    void lookup
      .catch(() => undefined)
      .finally(() => {
        if (inFlight.get(accessToken) === lookup) inFlight.delete(accessToken);
      });
    return lookup;
  };
  return {
    authenticate,
    async stillValid(accessToken) {
      try {
        await authenticate(`Bearer ${accessToken}`);
        return true;
      } catch (error) {
        // Only a refused token ends a stream: a check that could not reach the database says
        // nothing about the token (the stream keeps it and the next check asks again).
        return !(error instanceof GraphQLError && error.extensions.code === 'UNAUTHENTICATED');
      }
    },
    forgetToken(accessToken) {
      invalidations++;
      checked.delete(accessToken);
      inFlight.delete(accessToken);
    },
    forgetClient(clientId) {
      invalidations++;
      inFlight.clear();
      for (const [accessToken, entry] of checked) if (entry.viewer.clientId === clientId) checked.delete(accessToken);
    },
  };
}

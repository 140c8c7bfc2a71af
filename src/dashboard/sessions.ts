// Browser sessions of the dashboard: a client signs in with its id and secret, the service
// exchanges them for an access token at its own token endpoint and keeps the token in the
// database (so every process finds it), sealed with the data keys so that a copy of the database
// opens nothing, under the SHA-256 of a random id that only the browser's cookie holds. The cookie then stands for `Authorization: Bearer <token>` on the dashboard's own
// GraphQL requests, SSE streams and graphql-ws connections.
//
// Cross-site request forgery, and why these rules suffice:
// - the cookie is SameSite=Strict: a browser does not send it with any request another site
//   starts (links, forms, scripts, WebSocket handshakes);
// - on top of that a cookie-authenticated request must come from our own origin: a browser's
//   `Origin` (sent with every POST and WebSocket handshake) or `Sec-Fetch-Site` (sent with
//   everything, EventSource GETs too) naming another site is refused, and a POST without Origin
//   is refused;
// - a cookie-authenticated POST must be `Content-Type: application/json`, which no form and no
//   "simple" cross-origin request can send (yoga's useCSRFPrevention rests on the same rule, but
//   it would also refuse a plain EventSource GET, which cannot set a header);
// - a session only reads: a mutation with the cookie is refused whatever the transport (and
//   yoga refuses mutations over GET anyway). Writing needs a bearer token.
// A request with an Authorization header is authenticated by that header alone, as before.
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import { GraphQLError, getOperationAST, parse } from 'graphql';
import type Provider from 'oidc-provider';
import type { DataProtection } from '../crypto/data-protection.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { post } from '../partners/http-client.js';

export const SESSION_COOKIE = 'srs_dashboard';
const MAX_CREDENTIAL_LENGTH = 500;
const TOKEN_ENDPOINT_TIMEOUT_MS = 10_000;

export interface SessionDeps {
  prisma: PrismaClient;
  /** The service's own OAuth2 server, to revoke a session's token on sign-out. */
  oidc: Provider;
  /** Seals the session's access token at rest. */
  dataProtection: DataProtection;
  /** Where browsers reach the service: its origin is the only one cookies are accepted from. */
  publicUrl: string;
  /** Where this process reaches its own token endpoint. */
  internalUrl: string;
}

/** What the GraphQL layer knows about a request: a Fetch Request (HTTP, SSE) or the WebSocket upgrade's method and headers. */
type RequestLike = Request | Pick<http.IncomingMessage, 'method' | 'headers'> | undefined;

export type SignInResult = { ok: true; setCookie: string } | { ok: false; reason: 'invalid_client' | 'unavailable' };

export interface DashboardSessions {
  signIn(clientId: string, clientSecret: string): Promise<SignInResult>;
  /** Ends the request's session (and revokes its token); answers the Set-Cookie that clears it. */
  signOut(cookieHeader: string | undefined): Promise<string>;
  /** Whether the cookie names a live session. */
  hasSession(cookieHeader: string | undefined): Promise<boolean>;
  /**
   * The Authorization to authenticate a GraphQL request with: its own header when it has one,
   * else `Bearer <the session's token>` for a valid session cookie, else undefined.
   * Throws FORBIDDEN when a cookie comes with a request that could be forged (see above).
   */
  authorization(request: RequestLike, params?: { query?: string; operationName?: string | null }): Promise<string | undefined>;
  /** Whether a browser request to our own pages (a form POST) comes from our own origin. */
  sameOrigin(headers: http.IncomingHttpHeaders): boolean;
}

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(cookieHeader: string | null | undefined, name: string): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}

function headerOf(request: RequestLike, name: string): string | undefined {
  if (!request) return undefined;
  if (typeof (request as Request).headers?.get === 'function') return (request as Request).headers.get(name) ?? undefined;
  const value = (request as http.IncomingMessage).headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

function isMutation(params: { query?: string; operationName?: string | null } | undefined): boolean {
  if (!params?.query) return false;
  try {
    return getOperationAST(parse(params.query), params.operationName ?? undefined)?.operation === 'mutation';
  } catch {
    // yoga reports the syntax error itself.
    return false;
  }
}

export function createDashboardSessions(deps: SessionDeps): DashboardSessions {
  const origin = new URL(deps.publicUrl).origin;
  const secure = deps.publicUrl.startsWith('https:');
  const cookie = (value: string, maxAgeSeconds: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;

  const crossSite = (request: RequestLike) => {
    const requestOrigin = headerOf(request, 'origin');
    const fetchSite = headerOf(request, 'sec-fetch-site');
    return (requestOrigin !== undefined && requestOrigin !== origin) || (fetchSite !== undefined && fetchSite !== 'same-origin');
  };

  const findSession = async (cookieHeader: string | undefined) => {
    const id = cookieValue(cookieHeader, SESSION_COOKIE);
    if (!id || id.length > 100) return undefined;
    const session = await deps.prisma.dashboardSession.findUnique({ where: { idHash: hashSessionId(id) } });
    if (!session || session.expiresAt <= new Date()) return undefined;
    const accessToken = openAccessToken(session.accessTokenSealed);
    return accessToken === undefined ? undefined : { ...session, accessToken };
  };

  // A token that no configured key opens (its key was dropped from DATA_ENCRYPTION_KEYS) is a
  // session that has ended: its user signs in again.
  const openAccessToken = (sealed: string): string | undefined => {
    try {
      return deps.dataProtection.open<string>(sealed);
    } catch {
      return undefined;
    }
  };

  return {
    async signIn(clientId, clientSecret) {
      if (!clientId || !clientSecret || clientId.length > MAX_CREDENTIAL_LENGTH || clientSecret.length > MAX_CREDENTIAL_LENGTH) {
        return { ok: false, reason: 'invalid_client' };
      }
      let answer;
      try {
        answer = await post(`${deps.internalUrl}/oidc/token`, {
          headers: {
            authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
          timeoutMs: TOKEN_ENDPOINT_TIMEOUT_MS,
        });
      } catch {
        return { ok: false, reason: 'unavailable' };
      }
      if (answer.status === 400 || answer.status === 401) return { ok: false, reason: 'invalid_client' };
      let body: { access_token?: unknown; expires_in?: unknown } | undefined;
      try {
        body = JSON.parse(answer.text) as typeof body;
      } catch {
        body = undefined;
      }
      if (!answer.ok || typeof body?.access_token !== 'string' || typeof body.expires_in !== 'number') return { ok: false, reason: 'unavailable' };
      const id = randomBytes(32).toString('base64url');
      const now = new Date();
      await deps.prisma.$transaction([
        // Sessions that ended are cleared here, so the table holds only live ones and recent leftovers.
        deps.prisma.dashboardSession.deleteMany({ where: { expiresAt: { lt: now } } }),
        deps.prisma.dashboardSession.create({
          data: { idHash: hashSessionId(id), clientId, accessTokenSealed: deps.dataProtection.seal(body.access_token), expiresAt: new Date(now.getTime() + body.expires_in * 1000) },
        }),
      ]);
      return { ok: true, setCookie: cookie(id, body.expires_in) };
    },

    async signOut(cookieHeader) {
      const id = cookieValue(cookieHeader, SESSION_COOKIE);
      if (id && id.length <= 100) {
        const sessions = await deps.prisma.dashboardSession.findMany({ where: { idHash: hashSessionId(id) } });
        await deps.prisma.dashboardSession.deleteMany({ where: { idHash: hashSessionId(id) } });
        // Revoking the token ends what the session had open: its streams stop at their next token check.
        for (const session of sessions) {
          const accessToken = openAccessToken(session.accessTokenSealed);
          if (accessToken !== undefined) await (await deps.oidc.ClientCredentials.find(accessToken))?.destroy();
        }
      }
      return cookie('', 0);
    },

    async hasSession(cookieHeader) {
      return (await findSession(cookieHeader)) !== undefined;
    },

    async authorization(request, params) {
      const header = headerOf(request, 'authorization');
      if (header) return header;
      const cookieHeader = headerOf(request, 'cookie');
      if (cookieValue(cookieHeader, SESSION_COOKIE) === undefined) return undefined;
      if (crossSite(request)) throw forbidden('A dashboard session is accepted only from the dashboard’s own pages.');
      const method = request && 'method' in request ? request.method : undefined;
      if (method === 'POST') {
        if (!headerOf(request, 'origin')) throw forbidden('A POST with a dashboard session needs the Origin header.');
        if (!/^application\/json\b/i.test(headerOf(request, 'content-type') ?? '')) {
          throw forbidden('A POST with a dashboard session must be Content-Type: application/json.');
        }
      }
      if (isMutation(params)) throw forbidden('A dashboard session only reads; send mutations with an access token (Authorization: Bearer).');
      const session = await findSession(cookieHeader);
      if (!session) throw unauthenticated('The dashboard session has ended; sign in again.');
      return `Bearer ${session.accessToken}`;
    },

    sameOrigin(headers) {
      const requestOrigin = headers.origin;
      const fetchSite = headers['sec-fetch-site'];
      return (requestOrigin === undefined || requestOrigin === origin) && (fetchSite === undefined || fetchSite === 'same-origin');
    },
  };
}

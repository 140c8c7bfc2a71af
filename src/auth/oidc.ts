import { createHash } from 'node:crypto';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
// The request context of the current call; oidc-provider keeps it here and has no public accessor.
import requestContext from 'oidc-provider/lib/helpers/als.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/adapter.js';
import { clientSecretMatches } from './clients.js';
import { createClientDirectory, createOidcAdapter, type OidcAdapterFactory, type OidcStorageOptions } from './oidc-adapter.js';
import { withoutImpossibleIds } from './oidc-input-guard.js';
import { ALL_SCOPES, INTROSPECTING_ROLES, type ClientRole } from './scopes.js';
import { loadServiceKeys } from './service-keys.js';
import type { DataProtection } from '../crypto/data-protection.js';
import { orderClaimsOf } from './order-tokens.js';
import { logForOrder } from '../observability/log.js';

export const OIDC_MOUNT_PATH = '/oidc';

/**
 * The OAuth2 authorization server: client credentials, introspection and revocation.
 * `onOrderTokenIntrospected` hears when a partner checked an order token: the end user has
 * opened the target URL.
 */
export async function createOidcProvider(
  config: Config,
  { prisma, database, dataProtection }: { prisma: PrismaClient; database: DatabaseHandle; dataProtection?: DataProtection },
  hooks: {
    onOrderTokenIntrospected?: (refId: string, token: string) => Promise<void>;
    /** A token was revoked or otherwise destroyed. */
    onTokenDestroyed?: (id: string) => void;
  } = {},
  /** Another storage than the database's (see OidcAdapterFactory). */
  adapter?: OidcAdapterFactory,
): Promise<Provider> {
  const onOrderTokenIntrospected = hooks.onOrderTokenIntrospected ?? (async () => {});
  const storage: OidcStorageOptions = {
    query: database.query,
    // Client metadata is kept as long as a token check is; TOKEN_CACHE_SECONDS=0 turns both off.
    clientCacheSeconds: config.tokenCacheSeconds,
    authenticatedClientId: () => currentRequest()?.oidc?.client?.clientId,
    onDestroyed: (type, id) => {
      if (type === 'ClientCredentials') hooks.onTokenDestroyed?.(id);
    },
  };
  const keys = await loadServiceKeys(prisma, 'oidc', dataProtection);
  const provider = new Provider(`${config.publicUrl}${OIDC_MOUNT_PATH}`, {
    adapter: withoutImpossibleIds((adapter ?? createOidcAdapter)({ ...storage, clients: createClientDirectory(database.query, config.tokenCacheSeconds) })),
    jwks: { keys: keys as never },
    // No cookies are set for client credentials, but the provider insists on keys.
    cookies: { keys: keys.map((key) => createHash('sha256').update(String(key.d)).digest('base64url')) },
    scopes: ALL_SCOPES,
    claims: { openid: ['sub'] },
    findAccount: async () => undefined,
    extraClientMetadata: { properties: ['srs_role', 'srs_issuer'] },
    clientDefaults: {
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      // The service's keys are P-256; the default (RS256) has no key to sign with.
      id_token_signed_response_alg: 'ES256',
    },
    responseTypes: ['none'],
    ttl: { ClientCredentials: config.accessTokenTtlSeconds },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Operators may introspect any token; a partner only the order tokens of its own issuer.
        // Anyone else learns nothing: the response is { active: false }.
        allowedPolicy: async (_ctx: KoaContextWithOIDC, client, token) => {
          const { srs_role: role, srs_issuer: issuer } = client as unknown as { srs_role: ClientRole; srs_issuer?: string };
          if (!INTROSPECTING_ROLES.includes(role)) return false;
          return role === 'ADMIN' || (issuer !== undefined && orderClaimsOf((token as { extra?: unknown }).extra)?.srs_issuer === issuer);
        },
      },
      revocation: {
        enabled: true,
        // A client revokes its own tokens only (order tokens are revoked by the service itself).
        allowedPolicy: async (_ctx: KoaContextWithOIDC, client, token) => {
          if (token.clientId !== client.clientId) throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
          return true;
        },
      },
    },
    // Order tokens carry their order in `extra` (set before saving, see order-tokens.ts);
    // oidc-provider would otherwise replace it with this hook's result.
    extraTokenClaims: async (_ctx, token) => (token as { extra?: Record<string, unknown> }).extra,
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  provider.proxy = true;
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { active?: boolean; srs_ref_id?: string } | undefined;
    const refId = body?.srs_ref_id;
    const token = (ctx.oidc?.params as { token?: unknown } | undefined)?.token;
    if (ctx.path === '/token/introspection' && body?.active && refId && typeof token === 'string') {
      await onOrderTokenIntrospected(refId, token).catch((error: unknown) => logForOrder(refId).error({ err: error }, 'recording the start of the order failed'));
    }
  });

  // The stored client_secret is a hash: compare the hash of what was presented.
  provider.Client.prototype.compareClientSecret = function compareHashedSecret(this: { clientSecret: string }, presented: string) {
    return clientSecretMatches(this.clientSecret, presented);
  } as never;

  // oidc-provider silently drops scopes it does not know; RFC 6749 wants invalid_scope. And a
  // client that asks for no scope gets every scope it is allowed, as most OAuth2 servers do.
  const saveToken = provider.ClientCredentials.prototype.save;
  provider.ClientCredentials.prototype.save = function saveWithCheckedScope(this: InstanceType<typeof provider.ClientCredentials>) {
    const requested = currentRequest()?.oidc?.body?.scope;
    const unknown = String(requested ?? '').split(' ').find((scope) => scope && !(ALL_SCOPES as string[]).includes(scope));
    if (unknown) throw new errors.InvalidScope('requested scope is not supported', unknown);
    if (!this.scope && this.client?.scope && !orderClaimsOf(this.extra)) this.scope = this.client.scope;
    return saveToken.call(this);
  };
  return provider;
}

function currentRequest(): KoaContextWithOIDC | undefined {
  return requestContext.getStore() as KoaContextWithOIDC | undefined;
}

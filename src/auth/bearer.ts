import { GraphQLError } from 'graphql';
import type Provider from 'oidc-provider';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Viewer } from '../context.js';
import type { Scope } from './scopes.js';
import { orderClaimsOf } from './order-tokens.js';

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
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) throw unauthenticated('Send an OAuth2 access token: Authorization: Bearer <token>.');
  const token = await provider.ClientCredentials.find(match[1]);
  if (!token) throw unauthenticated('The access token is unknown, expired or revoked.');
  // Order tokens travel in target URLs to end users and partners; they open no API.
  if (orderClaimsOf(token.extra)) throw unauthenticated('An order token is not an API access token.');
  const client = await prisma.client.findUnique({ where: { id: token.clientId } });
  if (!client?.enabled) throw unauthenticated('The client of this access token is disabled.');
  return {
    clientId: client.id,
    name: client.name,
    role: client.role,
    issuer: client.issuer,
    scopes: [...token.scopes].filter((scope) => client.scopes.includes(scope)) as Scope[],
    tokenExpiresAt: new Date((token.exp ?? 0) * 1000),
    accessToken: match[1],
  };
}

/** Whether a token still authenticates: subscriptions re-check while they run. */
export async function tokenStillValid(provider: Provider, prisma: PrismaClient, accessToken: string): Promise<boolean> {
  try {
    await authenticateBearer(provider, prisma, `Bearer ${accessToken}`);
    return true;
  } catch {
    return false;
  }
}

import { GraphQLError } from 'graphql';
import type Provider from 'oidc-provider';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Viewer } from '../context.js';
import type { Scope } from './scopes.js';

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
export async function authenticateBearer(provider: Provider, prisma: PrismaClient, authorization: string | null): Promise<Viewer> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) throw unauthenticated('Send an OAuth2 access token: Authorization: Bearer <token>.');
  const token = await provider.ClientCredentials.find(match[1]);
  if (!token) throw unauthenticated('The access token is unknown, expired or revoked.');
  const client = await prisma.client.findUnique({ where: { id: token.clientId } });
  if (!client?.enabled) throw unauthenticated('The client of this access token is disabled.');
  return {
    clientId: client.id,
    name: client.name,
    role: client.role,
    issuer: client.issuer,
    scopes: [...token.scopes].filter((scope) => client.scopes.includes(scope)) as Scope[],
  };
}

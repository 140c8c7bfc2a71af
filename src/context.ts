import type { PrismaClient } from './generated/prisma/client.js';
import type { Config } from './config.js';
import type { ClientRole, Scope } from './auth/scopes.js';

/** The authenticated OAuth2 client behind a request. */
export interface Viewer {
  clientId: string;
  name: string;
  role: ClientRole;
  /** For IPSP clients: the issuer whose orders they serve. */
  issuer: string | null;
  /** The scopes of the presented token. */
  scopes: Scope[];
}

export interface GraphQLContext {
  prisma: PrismaClient;
  config: Config;
  viewer: Viewer;
}

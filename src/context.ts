import type { PrismaClient } from './generated/prisma/client.js';
import type { Config } from './config.js';
import type { ClientRole, Scope } from './auth/scopes.js';
import type { OrderServiceDeps } from './services/orders.js';
import type { Simulation } from './services/simulation.js';
import type { EventFeed } from './events/feed.js';

/** The authenticated OAuth2 client behind a request. */
export interface Viewer {
  clientId: string;
  name: string;
  role: ClientRole;
  /** For IPSP clients: the issuer whose orders they serve. */
  issuer: string | null;
  /** The scopes of the presented token. */
  scopes: Scope[];
  /** When the presented token expires: a subscription ends then. */
  tokenExpiresAt: Date;
  /** The presented access token, re-checked by long-lived subscriptions. */
  accessToken: string;
}

export interface GraphQLContext {
  prisma: PrismaClient;
  config: Config;
  viewer: Viewer;
  services: OrderServiceDeps & {
    simulation: Simulation;
    /** This process's reader of new order events, which subscriptions listen to. */
    eventFeed: EventFeed;
    /** Whether the access token is still valid (not revoked, not expired, client enabled). */
    tokenStillValid(accessToken: string): Promise<boolean>;
    /** Wakes this process's webhook delivery worker. */
    onWebhooksQueued?: () => void;
  };
}

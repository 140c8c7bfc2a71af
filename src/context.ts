import type { PrismaClient } from './generated/prisma/client.js';
import type { Config } from './config.js';
import type { Viewer } from './auth/viewer.js';
import type { OrderServiceDeps } from './services/orders.js';
import type { Simulation } from './services/simulation.js';
import type { EventFeed } from './events/feed.js';

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

import type { Viewer } from './auth/viewer.js';
import type { App } from './app.js';

/** What every resolver gets: who asks, and the application that answers. */
export interface GraphQLContext {
  viewer: Viewer;
  app: App;
}

import type { ClientRole, Scope } from './scopes.js';

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

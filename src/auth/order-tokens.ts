import type Provider from 'oidc-provider';
import type { DataProtection } from '../crypto/data-protection.js';

/** A year stands for "until cancelled": the token is revoked when the order ends anyway. */
const UNTIL_CANCELLED_SECONDS = 365 * 24 * 60 * 60;

export interface OrderTokenClaims {
  srs_ref_id: string;
  srs_issuer: string;
}

export interface OrderTokens {
  /**
   * Issues the token that goes into an order's target URL; introspection shows its claims. Until
   * `openingEnded`, only the partner opening the order has seen it.
   */
  issue(order: { refId: string; clientId: string; issuer: string }, expiresAt: Date | null): Promise<string>;
  /** The partner call that opens the token's order is over (opened or not): the token may reach the end user now. */
  openingEnded(token: string): void;
  /**
   * Whether this process issued the token and is still opening its order: an introspection of it
   * then is the partner checking SRS's call, not the end user arriving. (Another process does
   * not know: there the order's status, still CREATED, tells the same, at the cost of a statement.)
   */
  isBeingOpened(token: string): boolean;
  /** Revokes a token, given in clear or as stored (sealed). */
  revoke(token: string): Promise<void>;
  /** An order's token or target URL (which carries it) as stored: sealed like personal data. */
  sealSecret(value: string): string;
  /** The clear value of what sealSecret stored (a value stored in clear before sealing is given back as it is). */
  openSecret(stored: string): string;
  openSecret(stored: string | null): string | null;
}

// What DataProtection.seal writes: never the start of a token (base64url) or of a URL.
const SEALED = /^v1\.[\w-]+\./;

/**
 * Order tokens are OAuth2 access tokens of the service provider's client, with the order in
 * their claims; partners check them with token introspection. They are not API tokens: bearer
 * authentication refuses them.
 */
export function createOrderTokens(provider: Provider, protection?: DataProtection): OrderTokens {
  function openSecret(stored: string): string;
  function openSecret(stored: string | null): string | null;
  function openSecret(stored: string | null): string | null {
    if (stored === null || !SEALED.test(stored)) return stored;
    if (!protection) throw new Error('An order secret is sealed: the data keys are needed to open it.');
    return protection.open<string>(stored);
  }
  const beingOpened = new Set<string>();
  return {
    sealSecret: (value) => (protection ? protection.seal(value) : value),
    openSecret,
    async issue(order, expiresAt) {
      const client = await provider.Client.find(order.clientId);
      if (!client) throw new Error(`Client ${order.clientId} is unknown or disabled`);
      const expiresIn = expiresAt ? Math.max(60, Math.ceil((expiresAt.getTime() - Date.now()) / 1000)) : UNTIL_CANCELLED_SECONDS;
      const token = new provider.ClientCredentials({ client, expiresIn });
      token.extra = { srs_ref_id: order.refId, srs_issuer: order.issuer } satisfies OrderTokenClaims;
      const saved = await token.save();
      beingOpened.add(saved);
      return saved;
    },
    openingEnded: (token) => void beingOpened.delete(token),
    isBeingOpened: (token) => beingOpened.has(token),
    async revoke(value) {
      const token = await provider.ClientCredentials.find(openSecret(value), { ignoreExpiration: true });
      await token?.destroy();
    },
  };
}

export function orderClaimsOf(extra: unknown): OrderTokenClaims | undefined {
  const claims = extra as Partial<OrderTokenClaims> | undefined;
  return typeof claims?.srs_ref_id === 'string' && typeof claims.srs_issuer === 'string' ? (claims as OrderTokenClaims) : undefined;
}

// How SRS talks to an identity-proofing partner. Each issuer has one connector; a real partner
// is added by implementing this interface and registering it, nothing else changes.
import type { InitialIdentityData } from '../domain/initial-data.js';

export interface OpenOrderRequest {
  refId: string;
  issuer: string;
  methodName: string;
  /** The order token the partner introspects at SRS before serving the target URL. */
  orderToken: string;
  language: string | null;
  initialData: InitialIdentityData;
  targetUrlExpiresAt: Date | null;
}

export interface OpenedOrder {
  ipspOrderId: string;
  /** Handed to the end user verbatim: never truncated or re-encoded. */
  targetUrl: string;
}

export interface CancelOrderRequest {
  refId: string;
  ipspOrderId: string;
  orderToken: string;
}

export interface IpspConnector {
  openOrder(request: OpenOrderRequest): Promise<OpenedOrder>;
  cancelOrder(request: CancelOrderRequest): Promise<void>;
}

/** A partner refused or failed a request; the message is kept as the order's reason. */
export class PartnerError extends Error {}

export type ConnectorRegistry = (issuer: string) => IpspConnector | undefined;

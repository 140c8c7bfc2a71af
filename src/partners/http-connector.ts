import type { CancelOrderRequest, IpspConnector, OpenedOrder, OpenOrderRequest } from './connector.js';
import { PartnerError } from './connector.js';
import { post, type HttpAnswer } from './http-client.js';
import type https from 'node:https';

const PARTNER_TIMEOUT_MS = 10_000;

export interface HttpConnectorOptions {
  /** How long one call may take before the order ends in ERROR (default 10 s). */
  timeoutMs?: number;
  /** Sent with every call, under SRS's own authorization and content-type. */
  headers?: Record<string, string>;
  /** For https partners: an agent with a client certificate or the partner's CA. */
  agent?: https.Agent;
}

/**
 * A partner reached over HTTP with the simulators' API: POST {base}/orders opens an order, POST
 * {base}/orders/{id}/cancel cancels it. SRS authenticates with the order token itself, which the
 * partner checks by introspection, so no second secret is shared.
 */
export function createHttpConnector(apiBaseUrl: string, options: HttpConnectorOptions = {}): IpspConnector {
  const timeoutMs = options.timeoutMs ?? PARTNER_TIMEOUT_MS;
  async function call(path: string, orderToken: string, body: unknown): Promise<unknown> {
    let answer: HttpAnswer;
    try {
      answer = await post(`${apiBaseUrl}${path}`, {
        headers: { ...options.headers, authorization: `Bearer ${orderToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        timeoutMs,
        agent: options.agent,
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
      if (timedOut) throw new PartnerError(`The partner did not answer within ${timeoutMs} ms.`);
      throw new PartnerError(`The partner could not be reached: ${(error as Error).message}`);
    }
    if (!answer.ok) throw new PartnerError(`The partner answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    try {
      return answer.text ? JSON.parse(answer.text) : undefined;
    } catch {
      throw new PartnerError('The partner answered with something that is not JSON.');
    }
  }
  return {
    async openOrder(request: OpenOrderRequest): Promise<OpenedOrder> {
      const answer = (await call('/orders', request.orderToken, {
        refId: request.refId,
        methodName: request.methodName,
        language: request.language,
        initialData: request.initialData,
        targetUrlExpiresAt: request.targetUrlExpiresAt?.toISOString() ?? null,
      })) as Partial<OpenedOrder> | undefined;
      if (typeof answer?.ipspOrderId !== 'string' || typeof answer.targetUrl !== 'string') {
        throw new PartnerError('The partner answered without an order id and target URL.');
      }
      return { ipspOrderId: answer.ipspOrderId, targetUrl: answer.targetUrl };
    },
    async cancelOrder(request: CancelOrderRequest): Promise<void> {
      await call(`/orders/${encodeURIComponent(request.ipspOrderId)}/cancel`, request.orderToken, { refId: request.refId });
    },
  };
}

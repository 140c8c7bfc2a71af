// A partner (IPSP) written from docs/partner-api.openapi.yaml alone, not the built-in simulator:
// a node:http server that records SRS's calls, checks each order token by introspection at SRS,
// hands out target URLs, and, when the end user opens one, identifies them and drives the order
// to TERMINATED through SRS's GraphQL API with its own IPSP client.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  /** What SRS's introspection endpoint said of the bearer token (calls to /orders and /cancel). */
  introspection?: Record<string, unknown>;
}

export interface TestPartner {
  /** The partner's base URL, e.g. http://127.0.0.1:41234 (its API is under a path of choice). */
  url: string;
  calls: RecordedCall[];
  /** Where SRS is and the partner's IPSP client there; set once SRS runs. */
  connect(srs: { url: string; clientId: string; clientSecret: string }): void;
  close(): Promise<void>;
}

const IMPORT = `mutation Import($input: ImportEvidenceInput!) {
  importEvidence(input: $input) { order { status } userErrors { code message } }
}`;
const REPORT = `mutation Report($input: ReportIdentificationStatusInput!) {
  reportIdentificationStatus(input: $input) { order { status } userErrors { code message } }
}`;

/**
 * Paths: `{base}/orders` and `{base}/orders/{id}/cancel` for any base; a base starting with
 * `/slow` answers after `slowMs`, one starting with `/broken` answers 503. `GET /ident/{id}` is
 * the target URL: the end user's visit completes the identification.
 */
export async function startTestPartner(options: { slowMs?: number } = {}): Promise<TestPartner> {
  const calls: RecordedCall[] = [];
  const orders = new Map<string, { refId: string; token: string; initialData: Record<string, string> }>();
  let srs: { url: string; clientId: string; clientSecret: string } | undefined;
  let accessToken: string | undefined;
  let sequence = 0;

  const basic = () => `Basic ${Buffer.from(`${srs!.clientId}:${srs!.clientSecret}`).toString('base64')}`;
  const form = async (path: string, fields: Record<string, string>) => {
    const response = await fetch(`${srs!.url}${path}`, {
      method: 'POST',
      headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
    return (await response.json()) as Record<string, unknown>;
  };
  const introspect = (token: string) => form('/oidc/token/introspection', { token });
  const graphql = async (query: string, variables: unknown) => {
    accessToken ??= (await form('/oidc/token', { grant_type: 'client_credentials' })).access_token as string;
    const response = await fetch(`${srs!.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Record<string, { order: { status: string } | null; userErrors: unknown[] }>; errors?: unknown[] };
    const result = body.data && Object.values(body.data)[0];
    if (body.errors || !result || result.userErrors.length) throw new Error(`SRS refused: ${JSON.stringify(body)}`);
    return result.order!.status;
  };

  async function complete(id: string): Promise<string> {
    const order = orders.get(id)!;
    await graphql(REPORT, { input: { refId: order.refId, status: 'IDENTIFICATION_DONE', ipspOrderId: id } });
    await graphql(REPORT, { input: { refId: order.refId, status: 'DATA_READY', ipspOrderId: id } });
    return graphql(IMPORT, {
      input: {
        refId: order.refId,
        mobileNumber: order.initialData.mobileNumber,
        subject: { givenNames: order.initialData.givenNames, surname: order.initialData.surname, dateOfBirth: order.initialData.dateOfBirth, nationality: order.initialData.country },
        document: { type: 'BANK_ACCOUNT', issuingCountry: order.initialData.country },
        identifiedAt: new Date().toISOString(),
        termsAcceptedInApp: false,
      },
    });
  }

  const server = http.createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url!, 'http://partner');
    const call: RecordedCall = { method: request.method!, path: url.pathname, headers: request.headers, body: text ? JSON.parse(text) : undefined };
    calls.push(call);
    const send = (status: number, body?: unknown) => {
      response.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      response.end(body === undefined ? undefined : JSON.stringify(body));
    };
    try {
      if (url.pathname.startsWith('/broken')) return send(503, { error: 'maintenance' });
      if (url.pathname.startsWith('/slow')) await new Promise((resolve) => setTimeout(resolve, options.slowMs ?? 2000));
      const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
      const ident = /^\/ident\/([\w-]+)$/.exec(url.pathname);
      if (ident && request.method === 'GET') {
        // The end user arrives: check the token in the target URL, identify, report, import.
        const order = orders.get(ident[1]);
        const claims = order && (await introspect(url.searchParams.get('token') ?? ''));
        if (!order || !claims?.active || claims.srs_ref_id !== order.refId) return send(403, { error: 'invalid link' });
        return send(200, { identified: true, status: await complete(ident[1]) });
      }
      if (!token) return send(401, { error: 'no bearer token' });
      call.introspection = await introspect(token);
      if (!call.introspection.active) return send(401, { error: 'inactive token' });
      const cancel = /\/orders\/([\w-]+)\/cancel$/.exec(url.pathname);
      if (cancel && request.method === 'POST') return send(orders.has(cancel[1]) ? 204 : 404);
      if (url.pathname.endsWith('/orders') && request.method === 'POST') {
        const body = call.body as { refId: string; initialData: Record<string, string> };
        if (call.introspection.srs_ref_id !== body.refId) return send(401, { error: 'token of another order' });
        const id = `KP-${++sequence}`;
        orders.set(id, { refId: body.refId, token, initialData: body.initialData });
        const address = server.address() as AddressInfo;
        return send(201, { ipspOrderId: id, targetUrl: `http://127.0.0.1:${address.port}/ident/${id}?token=${encodeURIComponent(token)}` });
      }
      send(404, { error: 'not found' });
    } catch (error) {
      send(500, { error: String(error) });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    connect(target) {
      srs = target;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

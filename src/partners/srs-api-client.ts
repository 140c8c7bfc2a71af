// What a partner uses to talk to SRS over HTTP: its OAuth2 client credentials, token
// introspection and the GraphQL API. The built-in simulators use it exactly as a real IPSP would.
import { post } from './http-client.js';

export interface IntrospectionResult {
  active: boolean;
  client_id?: string;
  exp?: number;
  srs_ref_id?: string;
  srs_issuer?: string;
}

export interface SrsApiClient {
  introspect(token: string): Promise<IntrospectionResult>;
  graphql<Data = Record<string, unknown>>(query: string, variables: Record<string, unknown>): Promise<Data>;
}

const SRS_TIMEOUT_MS = 10_000;

export function createSrsApiClient(baseUrl: string, credentials: { clientId: string; clientSecret: string }): SrsApiClient {
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`).toString('base64')}`;
  let cached: { token: string; expiresAt: number } | undefined;

  // A partner gives SRS as long to answer as SRS gives a partner.
  const call = (path: string, headers: Record<string, string>, body: string) => post(`${baseUrl}${path}`, { headers, body, timeoutMs: SRS_TIMEOUT_MS });
  const form = { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' };

  async function accessToken(): Promise<string> {
    if (cached && cached.expiresAt > Date.now() + 30_000) return cached.token;
    const answer = await call('/oidc/token', form, new URLSearchParams({ grant_type: 'client_credentials' }).toString());
    const body = parsed<{ access_token?: string; expires_in?: number; error?: string }>(answer.text);
    if (!answer.ok || !body?.access_token) throw new Error(`SRS refused a token: ${body?.error ?? answer.status}`);
    cached = { token: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 60) * 1000 };
    return cached.token;
  }

  return {
    async introspect(token) {
      const answer = await call('/oidc/token/introspection', form, new URLSearchParams({ token }).toString());
      const body = parsed<IntrospectionResult>(answer.text);
      if (!answer.ok || !body) throw new Error(`Introspection failed with ${answer.status}`);
      return body;
    },
    async graphql(query, variables) {
      const answer = await call('/graphql', { authorization: `Bearer ${await accessToken()}`, 'content-type': 'application/json' }, JSON.stringify({ query, variables }));
      const body = parsed<{ data?: unknown; errors?: Array<{ message: string }> }>(answer.text);
      if (!body) throw new Error(`SRS answered ${answer.status} without JSON`);
      if (body.errors?.length) throw new Error(`SRS answered: ${body.errors.map((error) => error.message).join('; ')}`);
      return body.data as never;
    },
  };
}

function parsed<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

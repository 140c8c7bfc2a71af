// What a partner uses to talk to SRS over HTTP: its OAuth2 client credentials, token
// introspection and the GraphQL API. The built-in simulators use it exactly as a real IPSP would.

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

export function createSrsApiClient(baseUrl: string, credentials: { clientId: string; clientSecret: string }): SrsApiClient {
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`).toString('base64')}`;
  let cached: { token: string; expiresAt: number } | undefined;

  async function accessToken(): Promise<string> {
    if (cached && cached.expiresAt > Date.now() + 30_000) return cached.token;
    const response = await fetch(`${baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    const body = (await response.json()) as { access_token?: string; expires_in?: number; error?: string };
    if (!response.ok || !body.access_token) throw new Error(`SRS refused a token: ${body.error ?? response.status}`);
    cached = { token: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 60) * 1000 };
    return cached.token;
  }

  return {
    async introspect(token) {
      const response = await fetch(`${baseUrl}/oidc/token/introspection`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }),
      });
      if (!response.ok) throw new Error(`Introspection failed with ${response.status}`);
      return (await response.json()) as IntrospectionResult;
    },
    async graphql(query, variables) {
      const response = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await accessToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: unknown; errors?: Array<{ message: string }> };
      if (body.errors?.length) throw new Error(`SRS answered: ${body.errors.map((error) => error.message).join('; ')}`);
      return body.data as never;
    },
  };
}

// With the default PUBLIC_URL, OpenID discovery works whichever loopback name the person uses,
// as proven by openid-client (which refuses an issuer other than the URL it discovered from).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidcClient from 'openid-client';
import { endpointAt, startTestService, type TestClient, type TestService } from '../kit.js';

let srs: TestService;
let client: TestClient;
let port: string;

beforeAll(async () => {
  // PUBLIC_URL left to its default.
  srs = await startTestService({ env: { PUBLIC_URL: '' } });
  port = new URL(srs.service.url).port;
  client = await srs.createClient('SERVICE_PROVIDER');
});
afterAll(async () => {
  await srs?.stop();
});

describe('OpenID discovery with the default PUBLIC_URL', () => {
  it('defaults PUBLIC_URL to http://127.0.0.1:PORT', () => {
    expect(srs.service.config.publicUrl).toBe(`http://127.0.0.1:${port}`);
  });

  for (const host of ['127.0.0.1', 'localhost']) {
    it(`discovers the issuer at http://${host}:PORT/oidc and gets a working token`, async () => {
      const issuer = `http://${host}:${port}/oidc`;
      const configuration = await oidcClient.discovery(new URL(issuer), client.clientId, client.clientSecret, oidcClient.ClientSecretBasic(), {
        execute: [oidcClient.allowInsecureRequests],
      });
      expect(configuration.serverMetadata().issuer).toBe(issuer);
      expect(configuration.serverMetadata().token_endpoint).toBe(`${issuer}/token`);
      const tokens = await oidcClient.clientCredentialsGrant(configuration, { scope: 'methods:read' });
      const viewer = await endpointAt(srs.service.url).graphql<{ viewer: { clientId: string } }, never>('{ viewer { clientId } }', { token: tokens.access_token });
      expect(viewer.data?.viewer.clientId).toBe(client.clientId);
    });
  }

  it('names no other host: a foreign Host header gets the configured issuer', async () => {
    const response = await fetch(`${srs.service.url}/oidc/.well-known/openid-configuration`, { headers: { host: `evil.example:${port}` } });
    expect(((await response.json()) as { issuer: string }).issuer).toBe(`http://127.0.0.1:${port}/oidc`);
  });
});

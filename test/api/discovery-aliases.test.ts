// With the default PUBLIC_URL, OpenID discovery works whichever loopback name the person uses,
// as proven by openid-client (which refuses an issuer other than the URL it discovered from).
import http from 'node:http';
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
    // fetch() keeps its own Host header; node:http sends the one given.
    const issuerFor = (host: string) =>
      new Promise<string>((resolve, reject) =>
        http
          .get(`${srs.service.url}/oidc/.well-known/openid-configuration`, { headers: { host } }, (response) => {
            let body = '';
            response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
            response.on('end', () => resolve((JSON.parse(body) as { issuer: string }).issuer));
          })
          .on('error', reject),
      );
    expect(await issuerFor(`localhost:${port}`)).toBe(`http://localhost:${port}/oidc`);
    expect(await issuerFor(`evil.example:${port}`)).toBe(`http://127.0.0.1:${port}/oidc`);
    expect(await issuerFor(`localhost:${port === '1' ? '2' : '1'}`)).toBe(`http://127.0.0.1:${port}/oidc`);
  });
});

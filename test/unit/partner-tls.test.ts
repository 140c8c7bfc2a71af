// A partner that demands a client certificate (mutual TLS): the partners file's `tls` files make
// SRS present it and trust the partner's CA; without them the partner refuses the connection.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createHttpConnector } from '../../src/partners/http-connector.js';
import { httpsAgent } from '../../src/partners/http-client.js';
import { PartnerError } from '../../src/partners/connector.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srs-partner-tls-'));
const file = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A throwaway CA and two certificates it signs: the partner's server (127.0.0.1) and SRS's client. */
function makeCertificates(): void {
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Test partner CA', '-days', '1');
  for (const [name, subject, extension] of [
    ['server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1'],
    ['client', '/CN=srs-client', 'extendedKeyUsage=clientAuth'],
  ]) {
    fs.writeFileSync(file(`${name}.ext`), `${extension}\n`);
    openssl('req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  }
}

let server: https.Server;
let apiUrl: string;
const clientNames: string[] = [];

beforeAll(async () => {
  makeCertificates();
  server = https.createServer(
    { key: fs.readFileSync(file('server.key')), cert: fs.readFileSync(file('server.pem')), ca: fs.readFileSync(file('ca.pem')), requestCert: true, rejectUnauthorized: true },
    (request, response) => {
      clientNames.push(String((request.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN));
      request.resume();
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ipspOrderId: 'TLS-1', targetUrl: 'https://partner.example/t' }));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/srs`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => {
    server?.close(() => resolve());
    server?.closeAllConnections();
  });
  fs.rmSync(dir, { recursive: true, force: true });
});

const order = { refId: 'SRS-1', issuer: 'KLARNA', methodName: 'bank', orderToken: 't', language: null, initialData: {}, targetUrlExpiresAt: null };

describe('a partner behind mutual TLS', () => {
  it('is reached with the certificate and CA of the partners file', async () => {
    fs.writeFileSync(file('partners.json'), JSON.stringify({ partners: { KLARNA: { apiUrl, tls: { certFile: 'client.pem', keyFile: 'client.key', caFile: 'ca.pem' } } } }));
    const partner = loadConfig({ PARTNERS_FILE: file('partners.json') }).partners.partners.get('KLARNA')!;
    const connector = createHttpConnector(partner.apiUrl, { agent: httpsAgent(partner.tls!) });
    expect(await connector.openOrder(order)).toEqual({ ipspOrderId: 'TLS-1', targetUrl: 'https://partner.example/t' });
    expect(clientNames).toEqual(['srs-client']);
  });

  it('refuses SRS without a client certificate', async () => {
    const connector = createHttpConnector(apiUrl, { agent: httpsAgent({ ca: fs.readFileSync(file('ca.pem'), 'utf8') }), timeoutMs: 3000 });
    const refused = await connector.openOrder(order).catch((error: unknown) => error as Error);
    expect(refused).toBeInstanceOf(PartnerError);
    expect((refused as Error).message).toMatch(/^The partner could not be reached: .*(certificate required|alert|ECONNRESET|socket hang up)/i);
    expect(clientNames).toEqual(['srs-client']);
  });
});

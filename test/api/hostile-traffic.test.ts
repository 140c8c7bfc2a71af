// Hostile and unlucky traffic at the doors (issue 12): oversized and cut-off bodies, security
// headers, bad input answered 4xx, operation limits, the rate limit, bad graphql-ws operations.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spToken, startTestService, type TestService } from '../kit.js';

/** Sends raw bytes and returns what came back before the server closed (or `waitMs` passed). */
function rawRequest(url: string, head: string, body: Buffer | string, options: { endEarly?: boolean; waitMs?: number } = {}): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', () => resolve(received));
    socket.on('close', () => resolve(received));
    socket.write(head);
    socket.write(body, () => {
      // Cut off: the client goes away with the body half sent.
      if (options.endEarly) setTimeout(() => socket.destroy(), 50);
    });
    setTimeout(() => {
      socket.destroy();
      resolve(received);
    }, options.waitMs ?? 3000).unref();
  });
}

describe('the doors survive hostile traffic', () => {
  let srs: TestService;
  beforeAll(async () => {
    srs = await startTestService();
  });
  afterAll(() => srs?.stop());

  const alive = async () => expect((await fetch(`${srs.url}/health`)).status).toBe(200);

  it('answers a T&C POST over 64 KiB with 413 and keeps serving', async () => {
    const response = await fetch(`${srs.url}/terms/${'a'.repeat(32)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `decision=accept&pad=${'x'.repeat(70 * 1024)}`,
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: 'request_too_large' });
    await alive();
  });

  it('answers a chunked T&C POST that grows over 64 KiB with 413', async () => {
    const chunk = 'x'.repeat(8 * 1024);
    const body = `${Array.from({ length: 10 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('')}0\r\n\r\n`;
    const answer = await rawRequest(
      srs.url,
      `POST /terms/${'b'.repeat(32)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n`,
      body,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    await alive();
  });

  it('survives a T&C POST whose body is cut off mid-way', async () => {
    await rawRequest(
      srs.url,
      `POST /terms/${'c'.repeat(32)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\n`,
      'decision=acc',
      { endEarly: true, waitMs: 500 },
    );
    await alive();
    // And one that never finishes sending while the server waits: still alive afterwards.
    await alive();
  });

  it('puts the security headers on every answer, the pages with a strict policy', async () => {
    const terms = await fetch(`${srs.url}/terms/${'d'.repeat(32)}`);
    expect(terms.headers.get('content-type')).toContain('text/html');
    expect(terms.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(terms.headers.get('content-security-policy')).toContain("default-src 'none'");
    for (const response of [terms, await fetch(`${srs.url}/graphql`, { headers: { accept: 'text/html' } }), await fetch(`${srs.url}/health`), await fetch(`${srs.url}/nowhere`)]) {
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      // PUBLIC_URL is http here: no HSTS.
      expect(response.headers.get('strict-transport-security')).toBeNull();
      await response.body?.cancel();
    }
  });

  it('keeps a token for later tests', async () => {
    expect(await spToken(srs)).toBeTruthy();
  });
});

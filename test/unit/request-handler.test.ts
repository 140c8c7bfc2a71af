// The request handler over a route table of its own: which route answers, the route label of
// the request metric, and the refusal of new work while the process shuts down.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createRequestHandler } from '../../src/http/request-handler.js';
import type { Route } from '../../src/http/routes.js';
import type { ServiceMetrics } from '../../src/observability/metrics.js';
import { createRequestTracker } from '../../src/shutdown.js';

const answer = (text: string) => (_request: http.IncomingMessage, response: http.ServerResponse) => void response.end(text);

const ROUTES: Route[] = [
  { name: 'partner', duringShutdown: true, matches: (url) => url.startsWith('/partner/'), handle: answer('partner') },
  // Declines what it does not know, as the simulators and pages do: the next route may take it.
  { name: 'pages', matches: (url) => url.startsWith('/pages/'), handle: (request, response) => request.url === '/pages/known' && (answer('page')(request, response), true) },
  { name: 'fallback', matches: (url) => url.startsWith('/pages/'), handle: answer('fallback') },
];

let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function serve() {
  const observed: Array<{ route: string; status: number }> = [];
  const metrics = { observeRequest: (route: string, _method: string, status: number) => void observed.push({ route, status }) } as unknown as ServiceMetrics;
  const requests = createRequestTracker();
  server = http.createServer(createRequestHandler({ routes: ROUTES, metrics, https: false, requests }));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, text: await response.text(), connection: response.headers.get('connection') };
  };
  return { get, observed, requests };
}

describe('the request handler and its route table', () => {
  it('lets the first matching route answer, else the next one; labels the request with the first match, or other', async () => {
    const { get, observed } = await serve();
    expect(await get('/pages/known')).toMatchObject({ status: 200, text: 'page' });
    expect(await get('/pages/unknown')).toMatchObject({ status: 200, text: 'fallback' });
    expect(await get('/nowhere')).toMatchObject({ status: 404 });
    await expect.poll(() => observed).toEqual([
      { route: 'pages', status: 200 },
      { route: 'pages', status: 200 },
      { route: 'other', status: 404 },
    ]);
  });

  it('answers 400 for a NUL in the address, before any route', async () => {
    const { get } = await serve();
    expect((await get('/partner/%00')).status).toBe(400);
  });

  it('while shutting down: 503 for new work, the routes partners need still served, every answer closing its connection', async () => {
    const { get, requests } = await serve();
    requests.beginShutdown();
    expect(await get('/pages/known')).toMatchObject({ status: 503, connection: 'close' });
    expect(await get('/partner/open')).toMatchObject({ status: 200, text: 'partner', connection: 'close' });
  });
});

// The GraphQL endpoint as a whole, over HTTP: authentication, scopes, viewer, node, test mode,
// health, GraphiQL and conformance with the GraphQL over HTTP spec.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverAudits } from 'graphql-http';
import { graphql } from '../generated/index.js';
import { backend, startTestService, type TestService } from '../kit.js';

const ViewerQuery = graphql(`
  query SurfaceViewer {
    viewer {
      clientId
      name
      role
      scopes
      issuer
    }
  }
`);

const MethodIdsQuery = graphql(`
  query SurfaceMethodIds {
    identificationMethods {
      id
      issuer
      name
    }
  }
`);

const NodeQuery = graphql(`
  query SurfaceNode($id: ID!) {
    node(id: $id) {
      id
      ... on IdentificationMethod {
        issuer
        name
      }
    }
  }
`);

const NodesQuery = graphql(`
  query SurfaceNodes($ids: [ID!]!) {
    nodes(ids: $ids) {
      id
      ... on IdentificationMethod {
        issuer
        name
      }
    }
  }
`);

const NodeTypenameQuery = graphql(`
  query SurfaceNodeTypename($id: ID!) {
    node(id: $id) {
      __typename
    }
  }
`);

const globalId = (typename: string, id: string) => Buffer.from(`${typename}:${id}`).toString('base64');

/** An error body must not reveal internals: no stack, no source paths. */
function expectNoInternals(body: unknown): void {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/"stack"/i);
  expect(text).not.toMatch(/at \//);
  expect(text).not.toMatch(/node_modules|\.ts:\d+/);
}

async function postRaw(url: string, headers: Record<string, string>, query = '{ viewer { clientId } }') {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as Record<string, any> };
}

let srs: TestService;
let spToken: string;

beforeAll(async () => {
  srs = await startTestService();
  spToken = await srs.token(await srs.createClient('SERVICE_PROVIDER'));
});
afterAll(() => srs?.stop());

describe('authentication', () => {
  it.each([
    ['no Authorization header', undefined],
    ['a forged bearer token', 'Bearer abc'],
    ['a malformed header', 'Basic xyz'],
    ['an empty bearer', 'Bearer '],
  ])('refuses %s with 401 UNAUTHENTICATED and no internals', async (_label, authorization) => {
    const response = await postRaw(srs.url, authorization === undefined ? {} : { authorization });
    expect(response.status).toBe(401);
    expect(response.body.data ?? null).toBeNull();
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expectNoInternals(response.body);
    expect(response.text).not.toMatch(/\bat \S+ \(/);
  });
});

describe('scopes', () => {
  it('is FORBIDDEN to list methods without methods:read, but viewer works', async () => {
    const client = await srs.createClient('SERVICE_PROVIDER');
    const token = await srs.token(client, 'verify');

    const methods = await srs.graphql(MethodIdsQuery, { token });
    expect(methods.status).toBe(200);
    expect(methods.data).toBeNull();
    expect(methods.errors).toHaveLength(1);
    expect(methods.errors![0].extensions?.code).toBe('FORBIDDEN');
    expect(methods.errors![0].path).toEqual(['identificationMethods']);
    expectNoInternals(methods);

    const viewer = await srs.graphql(ViewerQuery, { token });
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data!.viewer.clientId).toBe(client.clientId);
    expect(viewer.data!.viewer.scopes).toEqual(['verify']);
  });
});

describe('viewer', () => {
  it('describes a service provider with the scopes of its token and no issuer', async () => {
    const client = await srs.createClient('SERVICE_PROVIDER', { name: 'Acme Signing' });
    const token = await srs.token(client, 'methods:read orders:read');
    const response = await srs.graphql(ViewerQuery, { token });
    expect(response.errors).toBeUndefined();
    expect(response.data!.viewer).toEqual({
      clientId: client.clientId,
      name: 'Acme Signing',
      role: 'SERVICE_PROVIDER',
      scopes: ['methods:read', 'orders:read'],
      issuer: null,
    });
  });

  it('gives a token without a requested scope every scope of the client', async () => {
    const client = await srs.createClient('SERVICE_PROVIDER', { name: 'All Scopes' });
    const response = await srs.graphql(ViewerQuery, { token: await srs.token(client) });
    expect(response.errors).toBeUndefined();
    expect([...response.data!.viewer.scopes].sort()).toEqual(['billing', 'methods:read', 'orders:read', 'orders:write', 'verify']);
  });

  it('describes an IPSP with its issuer', async () => {
    const client = await srs.createClient('IPSP', { issuer: 'TEST', name: 'Test Partner' });
    const token = await srs.token(client);
    const response = await srs.graphql(ViewerQuery, { token });
    expect(response.errors).toBeUndefined();
    expect(response.data!.viewer).toEqual({
      clientId: client.clientId,
      name: 'Test Partner',
      role: 'IPSP',
      scopes: ['methods:read', 'ipsp'],
      issuer: 'TEST',
    });
  });
});

describe('node', () => {
  it('fetches a method again by the id identificationMethods gave', async () => {
    const list = await srs.graphql(MethodIdsQuery, { token: spToken });
    expect(list.errors).toBeUndefined();
    const methods = list.data!.identificationMethods;
    expect(methods).toHaveLength(8);
    for (const method of methods) {
      const response = await srs.graphql(NodeQuery, { variables: { id: method.id }, token: spToken });
      expect(response.errors).toBeUndefined();
      expect(response.data!.node).toEqual({ id: method.id, issuer: method.issuer, name: method.name });
    }
    expect(methods.find((method) => method.issuer === 'TEST')!.id).toBe(globalId('IdentificationMethod', 'test-video'));
  });

  it('fetches several by nodes, in order, null for an unknown one', async () => {
    const ids = [globalId('IdentificationMethod', 'test-video'), globalId('IdentificationMethod', 'nope'), globalId('IdentificationMethod', 'klarna-bank')];
    const response = await srs.graphql(NodesQuery, { variables: { ids }, token: spToken });
    expect(response.errors).toBeUndefined();
    expect(response.data!.nodes).toEqual([{ id: ids[0], issuer: 'TEST', name: 'video' }, null, { id: ids[2], issuer: 'KLARNA', name: 'bank' }]);
  });

  it('answers null for an unknown but well-formed global id', async () => {
    const response = await srs.graphql(NodeQuery, { variables: { id: globalId('IdentificationMethod', 'nope') }, token: spToken });
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ node: null });
  });

  it.each([
    ['not base64 of Type:id', 'garbage'],
    ['of a type that has no global ids', Buffer.from('Viewer:x').toString('base64')],
  ])('refuses an id %s with BAD_USER_INPUT', async (_label, id) => {
    const response = await srs.graphql(NodeQuery, { variables: { id }, token: spToken });
    expect(response.data).toEqual({ node: null });
    expect(response.errors?.map((error) => [error.extensions?.code, error.message])).toEqual([['BAD_USER_INPUT', `"${id}" is not an id of this API.`]]);
  });

  it('tells a client without methods:read nothing about a method', async () => {
    const token = await srs.token(await srs.createClient('SERVICE_PROVIDER'), 'verify');
    const id = globalId('IdentificationMethod', 'klarna-bank');

    const response = await srs.graphql(NodeQuery, { variables: { id }, token });
    expect(response.data).toEqual({ node: null });
    expect(JSON.stringify(response)).not.toContain('KLARNA');
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    expectNoInternals(response);

    // Not even whether the id exists: __typename alone must not come back.
    const typename = await srs.graphql(NodeTypenameQuery, { variables: { id }, token });
    expect(typename.data).toEqual({ node: null });
    expect(typename.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);

    // An unknown id is plain null for it too. (A known id answers FORBIDDEN, an unknown one
    // nothing: the catalogue's ids are public, so that difference is accepted.)
    const unknown = await srs.graphql(NodeQuery, { variables: { id: globalId('IdentificationMethod', 'nope') }, token });
    expect(unknown.data).toEqual({ node: null });
  });
});

describe('test mode off', () => {
  let live: TestService;
  let token: string;
  beforeAll(async () => {
    live = await startTestService({ testMode: false });
    token = await live.token(await live.createClient('SERVICE_PROVIDER'));
  });
  afterAll(() => live?.stop());

  it('lists the 7 real methods and no TEST method', async () => {
    const response = await live.graphql(MethodIdsQuery, { token });
    expect(response.errors).toBeUndefined();
    expect(response.data!.identificationMethods.map((method) => method.issuer)).toEqual([
      'IDENTITY.TM',
      'KLARNA',
      'IDENTITY-TM-EID',
      'NECT',
      'INTRUM-VIDEO',
      'INTRUM-AUTOIDENT',
      'SWISSCOM-RA',
    ]);
  });

  it('does not find the TEST method by its global id', async () => {
    const id = globalId('IdentificationMethod', 'test-video');
    const response = await live.graphql(NodeQuery, { variables: { id }, token });
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ node: null });
    // While a real method still resolves on the same service.
    const real = await live.graphql(NodeQuery, { variables: { id: globalId('IdentificationMethod', 'klarna-bank') }, token });
    expect(real.data!.node).toMatchObject({ issuer: 'KLARNA' });
  });
});

describe('request body size', () => {
  const LIMIT = 1024 * 1024;
  /** A viewer query padded with a comment to `bytes` bytes of JSON. */
  const paddedBody = (bytes: number) => {
    const body = JSON.stringify({ query: '{ viewer { clientId } }\n#' });
    return body.slice(0, -2) + 'x'.repeat(bytes - body.length) + '"}';
  };
  /** The body as a stream: sent chunked, without a Content-Length. */
  const chunked = (text: string) => {
    const bytes = new TextEncoder().encode(text);
    return new ReadableStream<Uint8Array>({
      start(controller) {
        for (let offset = 0; offset < bytes.length; offset += 64 * 1024) controller.enqueue(bytes.subarray(offset, offset + 64 * 1024));
        controller.close();
      },
    });
  };
  const post = (body: string | ReadableStream<Uint8Array>) =>
    fetch(`${srs.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${spToken}`, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);

  it.each([
    ['with a Content-Length', (text: string) => text],
    ['sent chunked', chunked],
  ])('answers a body up to 1 MiB %s, and refuses a larger one with 413 REQUEST_ENTITY_TOO_LARGE', async (_label, shape) => {
    const atLimit = await post(shape(paddedBody(LIMIT)));
    expect(atLimit.status).toBe(200);
    expect(((await atLimit.json()) as { data: { viewer: { clientId: string } } }).data.viewer.clientId).toBeTruthy();

    const over = await post(shape(paddedBody(LIMIT + 1)));
    expect(over.status).toBe(413);
    const answer = (await over.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(answer.errors).toEqual([expect.objectContaining({ message: `The request body is larger than ${LIMIT} bytes.`, extensions: { code: 'REQUEST_ENTITY_TOO_LARGE' } })]);
  });
});

describe('other endpoints', () => {
  it('reports health with the database kind', async () => {
    const response = await fetch(`${srs.url}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ status: 'ok', database: backend === 'pglite' ? 'embedded' : 'postgres' });
  });

  it('answers an unknown path with a JSON 404', async () => {
    const response = await fetch(`${srs.url}/no/such/thing?x=1`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.error).toBe('not_found');
    expectNoInternals(body);
  });

  it('serves GraphiQL to a browser, without a token', async () => {
    const response = await fetch(`${srs.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toMatch(/<html/i);
    expect(html).toContain('Smart Registration Service');
    expect(html.toLowerCase()).toContain('graphiql');
  });
});

describe('GraphQL over HTTP conformance (graphql-http audits)', () => {
  it('passes every MUST audit', async () => {
    const audits = serverAudits({
      url: `${srs.url}/graphql`,
      fetchFn: (input: RequestInfo | URL, init?: RequestInit) =>
        fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), authorization: `Bearer ${spToken}` } }),
    });
    expect(audits.filter((audit) => audit.name.startsWith('MUST')).length).toBeGreaterThan(10);
    const failures: string[] = [];
    for (const audit of audits) {
      const result = await audit.fn();
      if (audit.name.startsWith('MUST') && result.status === 'error') failures.push(`${audit.name}: ${result.reason}`);
    }
    // SHOULD audits are recommendations and are not asserted here. With graphql-http 1.23.1 and
    // graphql-yoga 5 all 61 audits (13 MUST) came back ok: no SHOULD warning either.
    expect(failures).toEqual([]);
  });
});

// Property-based fuzzing (fast-check, bounded runs) of every operation's inputs and of the HTTP
// routes: whatever arrives, the answer is never a 5xx other than 503, never a masked
// "Unexpected error.", and the process keeps serving.
import fc from 'fast-check';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';
import { methodGlobalId, placeOrderBrief, startTestService, type TestService } from '../kit.js';
import { connectWs } from '../ws-kit.js';

/** Bounded so the file finishes well within a minute on a loaded machine; FUZZ_SCALE=20 digs deeper by hand. */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const GRAPHQL_RUNS = 250 * SCALE;
const HTTP_RUNS = 150 * SCALE;
const SUBSCRIPTION_RUNS = 40 * SCALE;

/** Strings an attacker (or bad luck) sends: empty, NUL, huge, markup, paths, encodings, unicode. */
const nastyString = (known: string[]) =>
  fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom('', '\u0000', 'R\u0000', 'a'.repeat(5000), '<script>alert(1)</script>', '../../etc/passwd', '%00', "' OR 1=1 --", '\uD800', '🙂'.repeat(50), '0000-01-01', '-1', '1e309'),
    fc.constantFrom(...known),
  );

const nastyDate = fc.oneof(
  fc.constantFrom('0000-01-01', '0001-01-01', '9999-12-31', '2026-02-30', '2026-13-01', '10000-01-01', '+275760-09-13', '2026-11-26'),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10)),
  fc.string({ maxLength: 12 }),
);
const nastyDateTime = fc.oneof(
  fc.constantFrom('0000-01-01T00:00:00Z', '0001-01-01T00:30:00+01:00', '9999-12-31T23:59:59Z', '2026-11-26T25:00:00Z', '2026-11-26T10:00:00Z'),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.string({ maxLength: 25 }),
);

/** An arbitrary value of a GraphQL input type, often valid in shape, often not in content. */
function valueOf(type: GraphQLInputType, known: string[], depth = 0): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return valueOf(type.ofType, known, depth);
  const nullable = (arbitrary: fc.Arbitrary<unknown>) => fc.oneof({ weight: 6, arbitrary }, { weight: 1, arbitrary: fc.constant(null) });
  if (isListType(type)) return nullable(fc.array(valueOf(type.ofType, known, depth + 1), { maxLength: depth > 1 ? 1 : 3 }));
  if (isEnumType(type)) return nullable(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...type.getValues().map((value) => value.name)) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }));
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields());
    return nullable(
      fc.record(Object.fromEntries(fields.map((field) => [field.name, valueOf(field.type, known, depth + 1)])), {
        requiredKeys: fields.filter((field) => isNonNullType(field.type)).map((field) => field.name),
      }),
    );
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
        return nullable(fc.oneof(fc.integer(), fc.constantFrom(0, -1, 1, 100, 101, 2 ** 31 - 1, -(2 ** 31))));
      case 'Float':
        return nullable(fc.double({ noNaN: true }));
      case 'Boolean':
        return nullable(fc.boolean());
      case 'Date':
        return nullable(nastyDate);
      case 'DateTime':
        return nullable(nastyDateTime);
      default:
        return nullable(nastyString(known));
    }
  }
  return fc.constant(null);
}

/** The document calling one root field with every argument as a variable; `__typename` is enough to run it. */
function documentFor(operation: 'query' | 'mutation' | 'subscription', field: GraphQLField<unknown, unknown>): string {
  const variables = field.args.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ');
  const args = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const selection = isScalarType(getNamedType(field.type)) || isEnumType(getNamedType(field.type)) ? '' : ' { __typename }';
  return `${operation} Fuzz${variables ? `(${variables})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`;
}

describe('fuzzing the doors', () => {
  let srs: TestService;
  let tokens: string[];
  let known: string[];
  beforeAll(async () => {
    srs = await startTestService();
    const provider = await srs.createClient('SERVICE_PROVIDER');
    const partner = await srs.createClient('IPSP', { issuer: 'TEST' });
    const admin = await srs.createClient('ADMIN');
    tokens = await Promise.all([srs.token(provider), srs.token(partner), srs.token(admin)]);
    const order = await placeOrderBrief(srs, tokens[0], { methodId: methodGlobalId('test-video'), disabledSmsAlerts: true });
    known = [order.refId, order.ipspOrderId ?? 'X', methodGlobalId('test-video'), methodGlobalId('klarna-bank'), '+41791234567', '079 123 45 67'];
  });
  afterAll(() => srs?.stop());

  const health = async () => (await fetch(`${srs.url}/health`)).status;

  it('answers any input to any query or mutation without a server error', async () => {
    const roots = [
      ...Object.values(schema.getQueryType()!.getFields()).map((field) => ({ operation: 'query' as const, field })),
      ...Object.values(schema.getMutationType()!.getFields()).map((field) => ({ operation: 'mutation' as const, field })),
    ];
    const call = fc.constantFrom(...roots).chain(({ operation, field }) =>
      fc.record({
        document: fc.constant(documentFor(operation, field)),
        variables: fc.oneof(
          { weight: 9, arbitrary: fc.record(Object.fromEntries(field.args.map((arg) => [arg.name, valueOf(arg.type, known)]))) },
          // Variables of the wrong shape altogether.
          { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...field.args.map((arg) => arg.name), 'x'), fc.anything({ maxDepth: 2 })) },
        ),
        token: fc.integer({ min: 0, max: 2 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(call, async ({ document, variables, token }) => {
        const response = await srs.graphql(document, { variables: variables as never, token: tokens[token] });
        const problem = { document, variables, status: response.status, errors: response.errors };
        expect(response.status === 503 || response.status < 500, JSON.stringify(problem)).toBe(true);
        for (const error of response.errors ?? []) {
          expect(error.message, JSON.stringify(problem)).not.toBe('Unexpected error.');
          expect(error.extensions?.code, JSON.stringify(problem)).not.toBe('INTERNAL_SERVER_ERROR');
        }
      }),
      { numRuns: GRAPHQL_RUNS },
    );
    expect(await health()).toBe(200);
  });

  it('answers any input to any subscription over graphql-ws with an error of that operation at worst', async () => {
    const fields = Object.values(schema.getSubscriptionType()!.getFields());
    const call = fc.constantFrom(...fields).chain((field) =>
      fc.record({ document: fc.constant(documentFor('subscription', field)), variables: fc.record(Object.fromEntries(field.args.map((arg) => [arg.name, valueOf(arg.type, known)]))) }),
    );
    const connection = connectWs(srs, tokens[0], { lazy: false });
    try {
      await fc.assert(
        fc.asyncProperty(call, async ({ document, variables }) => {
          const subscription = connection.subscribe(document, variables);
          // A valid one runs on: its first answer (or 300 ms of quiet) is enough.
          const deadline = Date.now() + 300;
          while (!subscription.ended && !subscription.items.length && !subscription.errors.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
          subscription.dispose();
          const problem = JSON.stringify({ document, variables, errors: subscription.errors, closes: connection.closes });
          expect(subscription.endedBy, problem).not.toBe('closed');
          for (const error of subscription.errors) {
            expect(error.message, problem).not.toBe('Unexpected error.');
            expect(error.extensions?.code, problem).not.toBe('INTERNAL_SERVER_ERROR');
          }
          expect(connection.closes, problem).toEqual([]);
        }),
        { numRuns: SUBSCRIPTION_RUNS },
      );
    } finally {
      await connection.dispose();
    }
    expect(await health()).toBe(200);
  });

  it('answers any request to any route without a server error', async () => {
    const paths = fc.oneof(
      fc.constantFrom('/graphql', '/health', '/metrics', '/.well-known/jwks.json', '/dev/sms', '/oidc/token', '/oidc/token/introspection', '/oidc/token/revocation', '/oidc/.well-known/openid-configuration'),
      fc.tuple(
        fc.constantFrom('/terms/', '/ipsp/test/api/orders/', '/ipsp/test/ident/', '/ipsp/klarna/ident/', '/ipsp/swisscom-ra/agent', '/oidc/', '/graphql?query=', '/'),
        fc.oneof(fc.webSegment(), fc.constantFrom('%00', 'A'.repeat(40), 'X-1/simulate', 'X-1/cancel', '..%2F..%2F', '%E0%A4%A', '?code=%00')),
      ).map(([prefix, rest]) => prefix + rest),
    );
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      path: paths,
      contentType: fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', 'application/graphql-response+json'),
      body: fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 3 }), fc.constantFrom('decision=accept', 'token=%00', '{"query":"{ viewer { clientId } }","variables":"notjson"}', 'x'.repeat(70 * 1024))),
      authorization: fc.oneof(fc.constant(undefined), fc.constantFrom('Bearer x', 'Basic %00', 'Bearer '), fc.integer({ min: 0, max: 2 }).map((index) => `Bearer ${tokens[index]}`)),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ method, path, contentType, body, authorization }) => {
        const headers: Record<string, string> = { 'content-type': contentType };
        if (authorization) headers.authorization = authorization;
        const response = await fetch(`${srs.url}${path}`, { method, headers, body: method === 'GET' || method === 'OPTIONS' ? undefined : body, redirect: 'manual' });
        const text = await response.text();
        expect(response.status === 503 || response.status < 500, JSON.stringify({ method, path, contentType, body: body.slice(0, 200), status: response.status, text: text.slice(0, 300) })).toBe(true);
      }),
      { numRuns: HTTP_RUNS },
    );
    expect(await health()).toBe(200);
  });
});

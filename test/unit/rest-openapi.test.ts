// The published OpenAPI document and the REST routes actually served must name the same routes.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { matchRestRoute, REST_ROUTES } from '../../src/rest/routes.js';

const document = JSON.parse(fs.readFileSync(new URL('../../docs/rest-api.openapi.json', import.meta.url), 'utf8')) as {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown> };
};
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const documented = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.keys(item)
    .filter((key) => HTTP_METHODS.includes(key))
    .map((method) => `${method.toUpperCase()} ${path}`),
);
const served = REST_ROUTES.map((route) => `${route.method} ${route.path}`);

describe('docs/rest-api.openapi.json', () => {
  it('is a valid OpenAPI 3.1 document (checked against the specification\'s JSON schema)', async () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as never);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('documents every served route, and serves every documented one', () => {
    expect([...documented].sort()).toEqual([...served].sort());
  });

  it('each documented route, with its path parameters filled in, reaches that route', () => {
    for (const entry of documented) {
      const [method, path] = entry.split(' ');
      const concrete = path.replace(/\{(\w+)\}/g, (_match, name: string) => `sample-${name}`);
      const found = matchRestRoute(method, concrete);
      expect(found && 'route' in found ? `${found.route.method} ${found.route.path}` : null, entry).toBe(entry);
    }
  });

  it('declares each path parameter of a route, and every $ref resolves', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      const declared = ((item.parameters ?? []) as Array<{ name: string; in: string }>).filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name);
      expect(declared.sort(), path).toEqual(names.sort());
    }
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((match) => match[1]);
    for (const ref of refs) expect(document.components.schemas, ref).toHaveProperty(ref);
  });
});

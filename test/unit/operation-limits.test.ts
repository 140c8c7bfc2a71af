// Every operation the README documents and every valid operation the tests send fits the default
// limits; the bombs of issue 12 do not.
import fs from 'node:fs';
import path from 'node:path';
import { parse, print, validate, type DocumentNode, type GraphQLError } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { schema } from '../../src/schema/index.js';
import { OPERATION_LIMIT_CODE, rowsRequested, useOperationLimits } from '../../src/graphql/operation-limits.js';
import * as generated from '../generated/graphql.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const limits = loadConfig({}).operationLimits;
const yoga = createYoga({ schema, plugins: useOperationLimits(limits) });

/** Parses and validates through the limit plugins, as a request would; the error codes. */
function refusals(source: string): string[] {
  const enveloped = yoga.getEnveloped({});
  try {
    const document = enveloped.parse(source);
    return enveloped.validate(enveloped.schema, document).map((error: GraphQLError) => (error.extensions.code === OPERATION_LIMIT_CODE ? `${error.extensions.code}: ${error.message}` : String(error.extensions.code ?? error.message)));
  } catch (error) {
    return [`${(error as { extensions?: { code?: string } }).extensions?.code}: ${(error as Error).message}`];
  }
}

/** Operations written in the tests as strings, and those the README shows. */
function operationsInText(): Array<{ where: string; source: string }> {
  const found: Array<{ where: string; source: string }> = [];
  const files = [
    ...fs.readdirSync(path.join(ROOT, 'test/api')).map((file) => `test/api/${file}`),
    ...fs.readdirSync(path.join(ROOT, 'bench/scenarios')).map((file) => `bench/scenarios/${file}`),
    'test/documents.ts',
  ];
  for (const file of files) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const match of text.matchAll(/[`'"]\s*((?:query|mutation|subscription)\b[^`'"]*|\{[^`'"]*\})\s*[`'"]/g)) found.push({ where: file, source: match[1] });
  }
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  for (const match of readme.matchAll(/```graphql\n([\s\S]*?)```/g)) found.push({ where: 'README.md', source: match[1] });
  return found;
}

describe('the default operation limits', () => {
  it('let every documented and every tested operation through', () => {
    const documents: Array<{ where: string; source: string }> = Object.entries(generated)
      .filter(([name]) => name.endsWith('Document'))
      .map(([name, document]) => ({ where: `test/generated ${name}`, source: print(document as DocumentNode) }));
    let checked = 0;
    const failures: unknown[] = [];
    for (const { where, source } of [...documents, ...operationsInText()]) {
      let document: DocumentNode;
      try {
        document = parse(source);
      } catch {
        continue; // not an operation (or a deliberately broken one)
      }
      // Operations the tests send to be refused for other reasons are not the limits' concern.
      if (validate(schema, document).length) continue;
      checked++;
      const refused = refusals(source);
      if (refused.length) failures.push({ where, refused, source: source.slice(0, 300) });
      // The largest pages a variable may ask for: still within the row limit.
      expect(rowsRequested(schema, document, undefined, { first: 100, last: 100 })).toBeLessThanOrEqual(limits.maxRows);
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(60);
  });

  it('refuse the bombs of issue 12 with OPERATION_LIMIT_EXCEEDED', () => {
    let nested = 'id';
    for (let pair = 0; pair < 10; pair++) nested = `events { order { ${nested} } }`;
    expect(refusals(`{ order(refId: "R") { ${nested} } }`)).toEqual([expect.stringMatching(/^OPERATION_LIMIT_EXCEEDED: /)]);
    const placeOrders = Array.from({ length: 200 }, (_, i) => `o${i}: placeOrder(input: { methodId: "x" }) { order { refId } }`).join(' ');
    expect(refusals(`mutation { ${placeOrders} }`)).toEqual([expect.stringMatching(/^OPERATION_LIMIT_EXCEEDED: /)]);
    const orderPages = Array.from({ length: 1000 }, (_, i) => `p${i}: orders(first: 100) { edges { node { refId } } }`).join(' ');
    expect(refusals(`{ ${orderPages} }`)).toEqual([expect.stringMatching(/^OPERATION_LIMIT_EXCEEDED: /)]);
    // Within the alias limit, but costly through the literal page size.
    const fewPages = Array.from({ length: 10 }, (_, i) => `p${i}: orders(first: 100) { edges { node { refId status events { status } } } }`).join(' ');
    expect(refusals(`{ ${fewPages} }`)).toEqual([expect.stringMatching(/^OPERATION_LIMIT_EXCEEDED: /)]);
    expect(refusals(`{ viewer { clientId ${'@include(if: true) '.repeat(60)} } }`)).toEqual([expect.stringMatching(/^OPERATION_LIMIT_EXCEEDED: /)]);
  });

  it('count the rows of pages given by variables, which armor’s cost does not', () => {
    const document = parse(`query($n: Int) { ${Array.from({ length: 11 }, (_, i) => `p${i}: orders(first: $n) { edges { node { refId } } }`).join(' ')} }`);
    expect(rowsRequested(schema, document, undefined, { n: 100 })).toBe(1100);
    expect(rowsRequested(schema, document, undefined, { n: 5 })).toBe(55);
    expect(rowsRequested(schema, parse('{ orders { totalCount } }'), undefined, {})).toBe(20);
    expect(rowsRequested(schema, parse('query($ids: [ID!]!) { nodes(ids: $ids) { id } }'), undefined, { ids: Array(5000).fill('x') })).toBe(5000);
  });
});

describe('the row limit, counted once per document when no variable changes it', () => {
  const codesOf = async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await yoga.fetch('http://yoga/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const body = (await response.json()) as { errors?: Array<{ extensions?: { limit?: string } }> };
    return (body.errors ?? []).map((error) => error.extensions?.limit);
  };

  it('sees the variables of every request, also for a document it has counted before', async () => {
    const query = 'query($n: Int) { orders(first: $n) { totalCount } }';
    expect(await codesOf(query, { n: 5 })).not.toContain('rows');
    expect(await codesOf(query, { n: limits.maxRows + 1 })).toContain('rows');
    expect(await codesOf(query, { n: 5 })).not.toContain('rows');
  });

  it('refuses a document over the limit every time it comes', async () => {
    const query = `{ a: orders(first: ${limits.maxRows}) { totalCount } b: orders(first: 1) { totalCount } }`;
    expect(await codesOf(query)).toContain('rows');
    expect(await codesOf(query)).toContain('rows');
  });
});

// Metrics label GraphQL operations by their root fields: bounded by the schema, whatever the client names them.
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { describeOperation } from '../../src/observability/graphql-plugin.js';

describe('describeOperation', () => {
  it('names an operation by its sorted root fields, not by the client-chosen name', () => {
    expect(describeOperation(parse('mutation AnythingAtAll { placeOrder(input: {}) { order { refId } } }'))).toEqual({ operation: 'placeOrder', type: 'mutation' });
    expect(describeOperation(parse('{ viewer { name } methods { totalCount } __typename }'))).toEqual({ operation: 'methods,viewer', type: 'query' });
    expect(describeOperation(parse('subscription { a: orderEvents { sequence } b: orderEvents { sequence } }'))).toEqual({ operation: 'orderEvents', type: 'subscription' });
  });

  it('picks the operation by name from a document with several, and says unknown when it cannot', () => {
    const document = parse('query A { viewer { name } } mutation B { cancelOrder(input: {}) { order { refId } } }');
    expect(describeOperation(document, 'B')).toEqual({ operation: 'cancelOrder', type: 'mutation' });
    expect(describeOperation(document)).toEqual({ operation: 'unknown', type: 'unknown' });
    expect(describeOperation(parse('{ __schema { types { name } } }'))).toEqual({ operation: 'introspection', type: 'query' });
  });
});

import SchemaBuilder from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import type { GraphQLContext } from '../context.js';
import type { ClientRole, Scope } from '../auth/scopes.js';

/** The types with global ids (Relay nodes). */
const NODE_TYPES = new Set(['IdentificationMethod', 'Order', 'OrderEvent', 'Evidence', 'TermsAcceptance', 'WebhookEndpoint', 'WebhookDelivery']);

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  PrismaTypes: PrismaTypes;
  AuthScopes: { scope: Scope; role: ClientRole; readOrders: boolean };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    Date: { Input: string; Output: string };
  };
}>({
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
  prisma: {
    client: (context) => context.app.prisma,
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    // Tests run with NODE_ENV=test: a resolver that forgets to spread `query` fails them.
    onUnusedQuery: process.env.NODE_ENV === 'test' ? 'error' : null,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    idFieldOptions: { description: 'A global id, unique across types; pass it to `node` to fetch the object again.' },
    nodeTypeOptions: { description: 'An object with a global id.' },
    pageInfoTypeOptions: { description: 'Where a page of a connection stands.' },
    // A malformed id is the caller's mistake: say so with a code instead of an internal message.
    decodeGlobalID: (globalID) => {
      const decoded = Buffer.from(globalID, 'base64').toString('utf8');
      const separator = decoded.indexOf(':');
      // NUL: no id holds one, and PostgreSQL refuses it in a query (an internal error).
      if (separator <= 0 || !NODE_TYPES.has(decoded.slice(0, separator)) || decoded.includes('\u0000')) {
        throw new GraphQLError(`"${globalID}" is not an id of this API.`, { extensions: { code: 'BAD_USER_INPUT' } });
      }
      return { typename: decoded.slice(0, separator), id: decoded.slice(separator + 1) };
    },
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
    nodeQueryOptions: { description: 'Fetches any object of the API by its global id; null when it does not exist or is not yours.' },
    nodesQueryOptions: { description: 'Fetches several objects by their global ids, in order; null for each one that does not exist or is not yours.' },
  },
  scopeAuth: {
    // Subscription fields check their scopes when subscribing, not on each event they deliver.
    authorizeOnSubscribe: true,
    authScopes: (context) => ({
      scope: (scope: Scope) => context.viewer.scopes.includes(scope),
      role: (role: ClientRole) => context.viewer.role === role,
      // Orders are read by their service provider (orders:read) and by their issuer's partner (ipsp).
      readOrders: context.viewer.scopes.includes('orders:read') || (context.viewer.role === 'IPSP' && context.viewer.scopes.includes('ipsp')),
    }),
    unauthorizedError: (_parent, _context, info) =>
      new GraphQLError(`Your client may not use ${info.parentType.name}.${info.fieldName}.`, {
        extensions: { code: 'FORBIDDEN' },
      }),
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

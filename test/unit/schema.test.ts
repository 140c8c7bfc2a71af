// The printed schema: committed as the code prints it, and never breaking the public contract
// for the part of it already implemented.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BreakingChangeType, buildASTSchema, buildSchema, findBreakingChanges, parse, validateSchema, visit, type GraphQLSchema } from 'graphql';
import { schema } from '../../src/schema/index.js';
import { printSortedSchema } from '../../src/schema/print.js';

const committedFile = fileURLToPath(new URL('../../schema/schema.graphql', import.meta.url));
const contractFile = fileURLToPath(new URL('../../../shared/contract/srs.graphql', import.meta.url));

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);
/** Fields of types already built whose data comes with a later issue (T&C and signed evidence). */
const FIELDS_NOT_BUILT_YET = new Set(['Evidence.terms', 'Evidence.jws']);

/**
 * The contract's breaking changes against `printed`, less the contract's parts not built yet:
 * whole types the printed schema does not have, and root fields it does not have yet. Anything
 * else (a changed field type, a removed field of a present type, a removed enum value, a new
 * required argument…) is kept.
 */
function breakingChangesOfImplementedPart(contract: GraphQLSchema, printed: GraphQLSchema): string[] {
  const printedTypes = printed.getTypeMap();
  return findBreakingChanges(contract, printed)
    .filter((change) => {
      if (change.type === BreakingChangeType.TYPE_REMOVED) {
        const typeName = /^(\w+) was removed\.$/.exec(change.description)?.[1];
        return !typeName || typeName in printedTypes;
      }
      if (change.type === BreakingChangeType.FIELD_REMOVED) {
        const [, typeName, fieldName] = /^(\w+)\.(\w+) was removed\.$/.exec(change.description) ?? [];
        return !typeName || !(ROOT_TYPES.has(typeName) || FIELDS_NOT_BUILT_YET.has(`${typeName}.${fieldName}`));
      }
      return true;
    })
    .map((change) => `${change.type}: ${change.description}`);
}

describe('the schema the code builds', () => {
  it('is valid, as a server would find on its first request', () => {
    expect(validateSchema(schema).map((error) => error.message)).toEqual([]);
  });
});

describe('schema/schema.graphql', () => {
  it('is exactly what the code prints', () => {
    const committed = fs.readFileSync(committedFile, 'utf8');
    expect(printSortedSchema(), 'schema/schema.graphql is out of date: run npm run schema:print').toBe(committed);
  });
});

describe('the public contract', () => {
  const contract = buildSchema(fs.readFileSync(contractFile, 'utf8'));
  const printedSdl = printSortedSchema();
  const printed = buildSchema(printedSdl);

  it('has no breaking change in the types the printed schema implements', () => {
    expect(breakingChangesOfImplementedPart(contract, printed)).toEqual([]);
  });

  it('still has the contract types and root fields built so far', () => {
    // The filter above cannot tell a root field not built yet from one removed by mistake (nor a
    // whole type): those built so far are pinned here.
    for (const name of [
      'Node',
      'IdentificationMethod',
      'IdentificationMethodFilter',
      'Viewer',
      'ClientRole',
      'Jurisdiction',
      'LevelOfAssurance',
      'Order',
      'OrderEvent',
      'OrderConnection',
      'PlaceOrderInput',
      'UserError',
      'Evidence',
      'OrderEventFilter',
      'WebhookEndpoint',
      'WebhookDelivery',
      'WebhookDeliveryConnection',
      'WebhookDeliveryStatus',
    ]) {
      expect(printed.getType(name)?.constructor.name, name).toBe(contract.getType(name)?.constructor.name);
    }
    for (const field of ['node', 'viewer', 'identificationMethods', 'order', 'orders', 'webhookEndpoints']) {
      expect(printed.getQueryType()!.getFields()[field], `Query.${field}`).toBeDefined();
    }
    for (const field of [
      'placeOrder',
      'cancelOrder',
      'reportIdentificationStatus',
      'importEvidence',
      'simulateIdentification',
      'createWebhookEndpoint',
      'updateWebhookEndpoint',
      'rotateWebhookSecret',
      'deleteWebhookEndpoint',
      'redeliverWebhooks',
    ]) {
      expect(printed.getMutationType()!.getFields()[field], `Mutation.${field}`).toBeDefined();
    }
    for (const field of ['orderStatusChanged', 'orderEvents']) {
      expect(printed.getSubscriptionType()!.getFields()[field], `Subscription.${field}`).toBeDefined();
    }
  });

  describe('catches a breaking change (the check itself can fail)', () => {
    function replaced(from: string | RegExp, to: string): GraphQLSchema {
      const sdl = printedSdl.replace(from, to);
      expect(sdl, `the pattern ${from} must be in the printed schema`).not.toBe(printedSdl);
      return buildSchema(sdl);
    }

    /** The printed schema without one field of an object type or one value of an enum. */
    function without(typeName: string, memberName: string): GraphQLSchema {
      let found = false;
      const keep = (member: { name: { value: string } }) => member.name.value !== memberName || !(found = true);
      const document = visit(parse(printedSdl), {
        ObjectTypeDefinition: (node) => (node.name.value === typeName ? { ...node, fields: node.fields?.filter(keep) } : undefined),
        EnumTypeDefinition: (node) => (node.name.value === typeName ? { ...node, values: node.values?.filter(keep) } : undefined),
      });
      expect(found, `${typeName}.${memberName} must be in the printed schema`).toBe(true);
      return buildASTSchema(document);
    }

    it.each([
      [
        'a changed field type',
        () => replaced(/(\n {2}languages: )\[String!\]!/, '$1[String]'),
        'FIELD_CHANGED_KIND: IdentificationMethod.languages changed type from [String!]! to [String].',
      ],
      [
        'a field made nullable',
        () => replaced(/(\ntype Viewer \{[^}]*\n {2}clientId: )String!/, '$1String'),
        'FIELD_CHANGED_KIND: Viewer.clientId changed type from String! to String.',
      ],
      [
        'a new required argument',
        () => replaced('identificationMethods(filter: IdentificationMethodFilter)', 'identificationMethods(filter: IdentificationMethodFilter, first: Int!)'),
        'REQUIRED_ARG_ADDED: A required arg first on Query.identificationMethods was added.',
      ],
      ['a removed field of a present type', () => without('IdentificationMethod', 'testOnly'), 'FIELD_REMOVED: IdentificationMethod.testOnly was removed.'],
      ['a removed enum value', () => without('Jurisdiction', 'ZERTES'), 'VALUE_REMOVED_FROM_ENUM: ZERTES was removed from enum type Jurisdiction.'],
    ])('%s', (_label, broken, expected) => {
      // Against what the printed schema reports already, so this holds even while it breaks.
      const before = breakingChangesOfImplementedPart(contract, printed);
      expect(breakingChangesOfImplementedPart(contract, broken()).filter((change) => !before.includes(change))).toEqual([expected]);
    });
  });
});

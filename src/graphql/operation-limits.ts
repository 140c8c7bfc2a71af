// Limits on what one GraphQL operation may ask for, so that no request (over HTTP, SSE or
// WebSocket: graphql-ws runs through the same envelop chain) can exhaust memory or the database.
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import {
  GraphQLError,
  getNamedType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  Kind,
  valueFromASTUntyped,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface OperationLimits {
  /** Nesting of fields (Order.events ↔ OrderEvent.order could otherwise nest without end). */
  maxDepth: number;
  /** Aliases in one operation (200 aliased placeOrder would place 200 orders). */
  maxAliases: number;
  /** graphql-armor's cost: every field, nested fields weighing more, literal `first` multiplying. */
  maxCost: number;
  /** Lexical tokens of the document, checked while parsing, before anything else is built. */
  maxTokens: number;
  /** Directives in one operation. */
  maxDirectives: number;
  /** Rows one operation may ask for through its pages (`first`/`last`) and id lists (`nodes(ids:)`). */
  maxRows: number;
}

/** The code of every refusal of an operation that exceeds a limit. */
export const OPERATION_LIMIT_CODE = 'OPERATION_LIMIT_EXCEEDED';

/** What a paged field without `first` or `last` returns (the connections' default page). */
export const DEFAULT_PAGE_SIZE = 20;

type LimitName = 'depth' | 'aliases' | 'cost' | 'tokens' | 'directives' | 'rows';

function limitExceeded(limit: LimitName, message: string): GraphQLError {
  return new GraphQLError(message.replace(/^Syntax Error: /, ''), {
    extensions: { code: OPERATION_LIMIT_CODE, limit, http: { status: 400 } },
  });
}

/** Armor's refusals carry no code: each is turned into ours, with the limit it names. */
const refuseAs = (limit: LimitName) => ({
  propagateOnRejection: false,
  onReject: [
    (_context: unknown, error: GraphQLError) => {
      throw limitExceeded(limit, error.message);
    },
  ],
});

/**
 * The yoga plugins for the limits: graphql-armor's depth, alias, cost, token and directive
 * limits, and our own row limit.
 *
 * Why a row limit of our own: armor's cost multiplies a field by `first` only when `first` is
 * written in the document; given as a variable (as clients do) it counts once, so
 * `orders(first: $n)` a thousand times over cost as much as a thousand single rows. The row limit
 * runs just before execution, when the variables are known, and also counts `nodes(ids:)`.
 */
export function useOperationLimits(limits: OperationLimits): Plugin[] {
  return [
    EnvelopArmorPlugin({
      // The schema is public (introspection is on): suggestions give nothing away.
      blockFieldSuggestion: { enabled: false },
      // A fragment spread is no level of data: only fields count.
      maxDepth: { n: limits.maxDepth, flattenFragments: true, ...refuseAs('depth') },
      maxAliases: { n: limits.maxAliases, ...refuseAs('aliases') },
      costLimit: { maxCost: limits.maxCost, ...refuseAs('cost') },
      maxTokens: { n: limits.maxTokens, ...refuseAs('tokens') },
      maxDirectives: { n: limits.maxDirectives, ...refuseAs('directives') },
    }) as Plugin,
    useRowLimit(limits.maxRows),
  ];
}

function useRowLimit(maxRows: number): Plugin {
  // The count of a document that reads no variable for it (no `first: $n`, no `ids: $ids`) is
  // the same on every request: kept per parsed document (yoga's parse cache hands the same
  // DocumentNode for the same text) and operation. One that reads a variable is counted anew.
  const fixedCounts = new WeakMap<DocumentNode, Map<string, number | 'depends on variables'>>();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      let counts = fixedCounts.get(args.document);
      if (!counts) fixedCounts.set(args.document, (counts = new Map()));
      const operationKey = args.operationName ?? '';
      let rows = counts.get(operationKey);
      if (rows === undefined || rows === 'depends on variables') {
        const variables = (args.variableValues ?? {}) as Record<string, unknown>;
        let readVariables = false;
        const watched = new Proxy(variables, {
          get(target, name) {
            readVariables = true;
            return Reflect.get(target, name);
          },
        });
        rows = rowsRequested(args.schema, args.document, args.operationName ?? undefined, watched);
        if (counts.get(operationKey) === undefined) counts.set(operationKey, readVariables ? 'depends on variables' : rows);
      }
      if (rows > maxRows) {
        setResultAndStopExecution({ errors: [limitExceeded('rows', `The operation asks for up to ${rows} rows; the limit is ${maxRows}.`)] });
      }
    },
  };
}

/**
 * How many rows an operation may return at most: every paged field counts its page size (the
 * `first` or `last` given, else the default page) and every `ids` list its length, multiplied by
 * the pages it is nested in. Lists without paging (an order's events) are bounded by the data
 * and counted once; their nesting is the depth limit's business.
 */
export function rowsRequested(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown>): number {
  const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((candidate) => candidate.name?.value === operationName) : operations[0];
  const rootType = operation && schema.getRootType(operation.operation);
  if (!operation || !rootType) return 0;
  const fragments = new Map(
    document.definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION).map((fragment) => [fragment.name.value, fragment]),
  );
  const count = (selectionSet: SelectionSetNode, parentType: GraphQLCompositeType, multiplier: number, seenFragments: ReadonlySet<string>): number => {
    let rows = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const field = isObjectType(parentType) || isInterfaceType(parentType) ? parentType.getFields()[selection.name.value] : undefined;
        if (!field) continue;
        const argument = (name: string): unknown => {
          const node = selection.arguments?.find((candidate) => candidate.name.value === name);
          return node ? valueFromASTUntyped(node.value, variables) : undefined;
        };
        let size = 1;
        if (field.args.some((arg) => arg.name === 'first' || arg.name === 'last')) {
          const given = argument('first') ?? argument('last');
          size = typeof given === 'number' && given >= 0 ? given : DEFAULT_PAGE_SIZE;
          rows += multiplier * size;
        } else if (field.args.some((arg) => arg.name === 'ids')) {
          const ids = argument('ids');
          size = Array.isArray(ids) ? ids.length : 1;
          rows += multiplier * size;
        }
        const childType = getNamedType(field.type);
        if (selection.selectionSet && (isObjectType(childType) || isInterfaceType(childType) || isUnionType(childType))) {
          rows += count(selection.selectionSet, childType, multiplier * Math.max(size, 1), seenFragments);
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) as GraphQLCompositeType | undefined) : parentType;
        if (type) rows += count(selection.selectionSet, type, multiplier, seenFragments);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || seenFragments.has(fragment.name.value)) continue;
        const type = schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType | undefined;
        if (type) rows += count(fragment.selectionSet, type, multiplier, new Set([...seenFragments, fragment.name.value]));
      }
    }
    return rows;
  };
  return count(operation.selectionSet, rootType, 1, new Set());
}

import { getOperationAST, Kind, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ServiceMetrics } from './metrics.js';
import { noteOperation } from './log.js';

/**
 * Names an operation by its root fields ("placeOrder", "order,methods"): bounded by the schema,
 * unlike client-chosen operation names, so it can label metrics.
 */
export function describeOperation(document: DocumentNode, operationName?: string | null): { operation: string; type: string } {
  const definition = getOperationAST(document, operationName);
  if (!definition) return { operation: 'unknown', type: 'unknown' };
  const fields = new Set<string>();
  for (const selection of definition.selectionSet.selections) {
    if (selection.kind === Kind.FIELD && !selection.name.value.startsWith('__')) fields.add(selection.name.value);
  }
  return { operation: [...fields].sort().join(',') || 'introspection', type: definition.operation };
}

/** Times every GraphQL operation into the metrics and names it in the request's log line. */
export function useOperationMetrics(metrics: ServiceMetrics): Plugin {
  // Named once per parsed document (yoga's parse cache hands the same one for the same text).
  const described = new WeakMap<DocumentNode, Map<string, { operation: string; type: string }>>();
  const describe = (document: DocumentNode, operationName: string | null | undefined) => {
    let byName = described.get(document);
    if (!byName) described.set(document, (byName = new Map()));
    let description = byName.get(operationName ?? '');
    if (!description) byName.set(operationName ?? '', (description = describeOperation(document, operationName)));
    return description;
  };
  const timed = (document: DocumentNode, operationName: string | null | undefined) => {
    const started = performance.now();
    const { operation, type } = describe(document, operationName);
    noteOperation(operation);
    return (failed: boolean) => metrics.observeOperation(operation, type, failed ? 'error' : 'ok', (performance.now() - started) / 1000);
  };
  return {
    onExecute({ args }) {
      const done = timed(args.document, args.operationName);
      return {
        onExecuteDone({ result }) {
          done('errors' in result && Boolean(result.errors?.length));
        },
      };
    },
    // A subscription is timed until its stream (or its errors) is there. A stream that fails
    // later is not counted again: watching for that would wrap every subscriber's stream in one
    // more layer of promises per event.
    onSubscribe({ args }) {
      const done = timed(args.document, args.operationName);
      return {
        onSubscribeResult({ result }) {
          done('errors' in result && Boolean(result.errors?.length));
        },
      };
    },
  };
}

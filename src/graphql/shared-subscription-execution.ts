import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

type Step = IteratorResult<ExecutionResult, undefined>;

/**
 * Runs each subscription's selection once per event for every subscriber that would get the same
 * answer, instead of once per subscriber. One event reaching ten thousand subscribers of the same
 * operation then costs one execution, and every subscriber is sent the same result object.
 *
 * Two subscriptions share a result when the event is the same object in memory (the event
 * feed hands one object to every stream; a stream that reads the table itself gets objects of
 * its own, which are never shared), and they ran the same parsed document, operation and
 * variables for the same `audience`: what the resolvers may show differently to different
 * callers. `audience` answers null for a context that must never share.
 *
 * Only the function that runs the operation is replaced: every plugin's subscribe hooks (error
 * masking, metrics) still see each subscription and each of its results.
 */
export function useSharedSubscriptionExecution<Context>(audience: (context: Context) => string | null): Plugin {
  const shared = new SharedResults();
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!(Symbol.asyncIterator in source)) return source;
        const who = audience(args.contextValue as Context);
        const key = who === null ? null : shared.keyOf(args, who);
        const stream = new SharedExecutionStream(source[Symbol.asyncIterator](), args, key, shared);
        if (typeof args.contextValue === 'object' && args.contextValue !== null) streamsByContext.set(args.contextValue, stream);
        return stream;
      });
    },
  };
}

/** What the subscription that ran with a context value executes, for serving it to others alike. */
export interface SharedSubscription {
  /** Equal for subscriptions whose results are equal for an equal event; null: share with none. */
  readonly key: string | null;
  /** The stream of events (the schema's subscribe function's answer). */
  readonly source: AsyncIterator<unknown>;
  /** The event of the latest result. */
  readonly lastEvent: unknown;
}

// Plugins (error masking, metrics) wrap the stream, so the stream is found by its context.
const streamsByContext = new WeakMap<object, SharedExecutionStream>();

/** The subscription that ran with this context value, if it had a stream of events. */
export function sharedSubscriptionOf(contextValue: unknown): SharedSubscription | undefined {
  return typeof contextValue === 'object' && contextValue !== null ? streamsByContext.get(contextValue) : undefined;
}

interface SharedResult {
  promise: Promise<Step>;
  /** Once settled: later subscribers take it as it is, without waiting another turn. */
  step?: Step;
}

class SharedResults {
  // Keyed by the event object: the results go when the event does, once every stream is past it.
  private readonly byEvent = new WeakMap<object, Map<string, SharedResult>>();
  private readonly documentIds = new WeakMap<DocumentNode, number>();
  private nextDocumentId = 0;

  keyOf(args: ExecutionArgs, audience: string): string {
    let documentId = this.documentIds.get(args.document);
    if (documentId === undefined) this.documentIds.set(args.document, (documentId = this.nextDocumentId++));
    return `${documentId}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? null)}\u0000${audience}`;
  }

  resultFor(payload: unknown, stream: SharedExecutionStream): Step | Promise<Step> {
    const { key } = stream;
    if (key === null || typeof payload !== 'object' || payload === null) return stream.run(payload);
    let results = this.byEvent.get(payload);
    if (!results) this.byEvent.set(payload, (results = new Map()));
    let result = results.get(key);
    if (!result) {
      const shared: SharedResult = { promise: stream.run(payload) };
      shared.promise.then(
        (step) => (shared.step = step),
        () => undefined,
      );
      results.set(key, (result = shared));
    }
    return result.step ?? result.promise;
  }
}

/** The source stream's events, each mapped to the result of the selection for it. */
class SharedExecutionStream implements AsyncIterableIterator<ExecutionResult>, SharedSubscription {
  lastEvent: unknown = undefined;

  constructor(
    readonly source: AsyncIterator<unknown>,
    private readonly args: ExecutionArgs,
    readonly key: string | null,
    private readonly shared: SharedResults,
  ) {}

  [Symbol.asyncIterator]() {
    return this;
  }

  next(): Promise<Step> {
    return this.source.next().then(this.toResult);
  }

  return(): Promise<Step> {
    return Promise.resolve(this.source.return?.()).then(() => ({ done: true, value: undefined }));
  }

  throw(error?: unknown): Promise<Step> {
    return this.source.throw ? this.source.throw(error).then(this.toResult) : Promise.reject(error);
  }

  private readonly toResult = (step: IteratorResult<unknown>): Step | Promise<Step> => {
    if (step.done) return { done: true, value: undefined };
    this.lastEvent = step.value;
    return this.shared.resultFor(step.value, this);
  };

  async run(payload: unknown): Promise<Step> {
    return { done: false, value: await execute({ ...this.args, rootValue: payload }) };
  }
}

// Subscription helpers for the API tests: a graphql-ws client on the test service and an SSE
// reader for yoga's text/event-stream answers, both collecting what arrives for later assertions.
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { createClient, type Client, type ExecutionResult } from 'graphql-ws';
import type { TestService } from './kit.js';

export type WsError = { message: string; extensions?: { code?: string } & Record<string, unknown> };

/** What one subscription received, in order, and how it ended. */
export interface Collected<Data> {
  /** The data of every `next` message. */
  items: Data[];
  /** GraphQL errors (from `error` or from `next` with errors); a close event when the socket closed instead. */
  errors: WsError[];
  /** The socket close event that ended the subscription, if it ended that way. */
  closeEvent?: { code: number; reason: string };
  ended: boolean;
  /** How it ended: 'complete', 'error' (GraphQL errors) or 'closed' (socket closed). */
  endedBy?: 'complete' | 'error' | 'closed';
  /** Resolves with the items once there are at least n; rejects after timeoutMs. */
  waitFor(n: number, timeoutMs?: number): Promise<Data[]>;
  /** Resolves once the subscription ended; rejects after timeoutMs. */
  waitForEnd(timeoutMs?: number): Promise<void>;
  /** Stops the subscription (client side dispose, which sends `complete` to the server). */
  dispose(): void;
}

async function until(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${describe()}`);
    await sleep(20);
  }
}

function collector<Data>(): Collected<Data> & { finish(by: 'complete' | 'error' | 'closed'): void; stop: () => void } {
  const state = {
    items: [] as Data[],
    errors: [] as WsError[],
    closeEvent: undefined as { code: number; reason: string } | undefined,
    ended: false,
    endedBy: undefined as 'complete' | 'error' | 'closed' | undefined,
    stop: () => {},
    finish(by: 'complete' | 'error' | 'closed') {
      if (state.ended) return;
      state.ended = true;
      state.endedBy = by;
    },
    waitFor(n: number, timeoutMs = 10_000) {
      return until(
        () => state.items.length >= n,
        timeoutMs,
        () => `wanted ${n} items, got ${state.items.length} (the last ones: ${JSON.stringify(state.items.slice(-3))}); errors ${JSON.stringify(state.errors)}; ended ${state.endedBy ?? 'no'}`,
      ).then(() => state.items);
    },
    waitForEnd(timeoutMs = 10_000) {
      return until(
        () => state.ended,
        timeoutMs,
        () => `subscription still running after ${state.items.length} items`,
      );
    },
    dispose() {
      state.stop();
    },
  };
  return state;
}

export interface WsConnection {
  client: Client;
  /** Close events of the socket, in order. */
  closes: Array<{ code: number; reason: string }>;
  /** Whether the server acknowledged the connection. */
  acknowledged: () => boolean;
  subscribe<Data = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Collected<Data>;
  dispose(): Promise<void>;
}

/**
 * A graphql-ws client on /graphql of the test service. `auth`: a token (sent as
 * `{ Authorization: 'Bearer …' }`), other connection params, or null for none. `lazy: false`
 * connects at once and keeps the socket open without subscriptions.
 */
export function connectWs(srs: Pick<TestService, 'url'>, auth: string | Record<string, unknown> | null, options: { lazy?: boolean } = {}): WsConnection {
  const closes: Array<{ code: number; reason: string }> = [];
  let acked = false;
  const connectionParams = auth === null ? undefined : typeof auth === 'string' ? { Authorization: `Bearer ${auth}` } : auth;
  const client = createClient({
    url: `${srs.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: options.lazy ?? true,
    // A non-lazy connection that the server closes is recorded in `closes`, not printed.
    onNonLazyError: () => {},
    on: {
      connected: () => {
        acked = true;
      },
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        closes.push({ code, reason: String(reason ?? '') });
      },
    },
  });
  return {
    client,
    closes,
    acknowledged: () => acked,
    subscribe<Data>(query: string, variables?: Record<string, unknown>) {
      const collected = collector<Data>();
      collected.stop = client.subscribe<Data>(
        { query, variables },
        {
          next: (result: ExecutionResult<Data>) => {
            if (result.errors?.length) collected.errors.push(...(result.errors as unknown as WsError[]));
            if (result.data) collected.items.push(result.data);
          },
          error: (error: unknown) => {
            if (Array.isArray(error)) {
              collected.errors.push(...(error as WsError[]));
              collected.finish('error');
            } else if (error && typeof error === 'object' && 'code' in error && typeof (error as { code: unknown }).code === 'number') {
              const { code, reason } = error as { code: number; reason: string };
              collected.closeEvent = { code, reason: String(reason ?? '') };
              collected.finish('closed');
            } else {
              collected.errors.push({ message: error instanceof Error ? error.message : String(error) });
              collected.finish('error');
            }
          },
          complete: () => collected.finish('complete'),
        },
      );
      return collected;
    },
    dispose: () => Promise.resolve(client.dispose()),
  };
}

/**
 * A subscription over SSE: POST /graphql with Accept: text/event-stream. Parses `event: next` and
 * `event: complete` messages; `abort()` cancels the request.
 */
export function subscribeSse<Data = Record<string, unknown>>(
  srs: Pick<TestService, 'url'>,
  token: string | null,
  query: string,
  variables?: Record<string, unknown>,
): Collected<Data> & { status: Promise<number>; abort(): void } {
  const collected = collector<Data>();
  const controller = new AbortController();
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (token) headers.authorization = `Bearer ${token}`;
  let resolveStatus: (status: number) => void = () => {};
  const status = new Promise<number>((resolve) => (resolveStatus = resolve));
  const handle = (event: string, data: string) => {
    if (event === 'complete') return collected.finish(collected.endedBy ?? 'complete');
    if (event !== 'next' || !data) return;
    const result = JSON.parse(data) as ExecutionResult<Data>;
    if (result.errors?.length) collected.errors.push(...(result.errors as unknown as WsError[]));
    if (result.data) collected.items.push(result.data);
  };
  void (async () => {
    try {
      const response = await fetch(`${srs.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }), signal: controller.signal });
      resolveStatus(response.status);
      if (!response.body) return collected.finish('closed');
      if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
        const body = (await response.json()) as ExecutionResult<Data>;
        if (body.errors?.length) collected.errors.push(...(body.errors as unknown as WsError[]));
        if (body.data) collected.items.push(body.data);
        return collected.finish('error');
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          handle(event, data.join('\n'));
        }
      }
      collected.finish(collected.errors.length ? 'error' : 'complete');
    } catch (error) {
      resolveStatus(0);
      if (!controller.signal.aborted) collected.errors.push({ message: error instanceof Error ? error.message : String(error) });
      collected.finish('closed');
    }
  })();
  collected.stop = () => controller.abort();
  return Object.assign(collected, { status, abort: () => controller.abort() });
}

import type { IncomingMessage } from 'node:http';
import { execute as executeOperation, getOperationAST, GraphQLError, subscribe as subscribeOperation, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { areGraphQLErrors, CloseCode, handleProtocols, makeServer, MessageType, parseMessage, type CompleteMessage, type Context as ConnectionContext, type ServerOptions, type SubscribeMessage } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { log } from '../observability/log.js';
import { completeMessage, errorMessage, nextMessage, resultJson, SubscriptionChannels, write, type Member, type SubscriptionChannel } from './subscription-channels.js';

/** What graphql-ws hands every hook as `ctx.extra`. */
export interface WebSocketExtra {
  socket: WebSocket;
  request: WebSocketRequest;
}

/**
 * What a connection keeps of its upgrade request: every hook reads headers at most. Keeping the
 * IncomingMessage itself (its raw headers, streams state and listeners) cost about a kilobyte per
 * open connection.
 */
export type WebSocketRequest = Pick<IncomingMessage, 'method' | 'url' | 'headers'>;

/** The turns one keep-alive period is split into: each turn pings a share of the sockets. */
const KEEP_ALIVE_TURNS = 12;

/**
 * The largest message a socket may send before its `connection_init` is accepted: a
 * connection_init with a token fits many times over. Only after that does the server's own
 * `maxPayload` (the GraphQL body limit) apply, so that anonymous sockets cannot make the process
 * buffer megabytes each.
 */
export const MAX_PAYLOAD_BEFORE_INIT_BYTES = 4 * 1024;

/**
 * Sets the frame size limit of one socket. `ws` has one `maxPayload` per server, checked by each
 * socket's receiver as a frame's length arrives (before its payload is buffered); the receiver
 * keeps it in a field of its own, which is set here per socket. Should a version of `ws` not
 * have that field, the check of every message in `onMessage` still holds a socket to the limit,
 * only after buffering it (up to the server's maxPayload).
 */
function limitFrames(socket: WebSocket, maxBytes: number): void {
  const receiver = (socket as unknown as { _receiver?: { _maxPayload?: unknown } })._receiver;
  if (receiver && typeof receiver._maxPayload === 'number') receiver._maxPayload = maxBytes;
}

/**
 * graphql-ws over a `ws` server, in place of `graphql-ws/use/ws`, for what it costs per subscriber
 * at ten thousand of them:
 * - a message is handed to the socket without a promise and a callback of its own: a failed write
 *   closes the socket, which graphql-ws learns from the close;
 * - keep-alive pings come from one process-wide timer in turns, instead of an interval, a timeout
 *   and a listener per socket. A socket that has not answered the previous ping by its next turn
 *   (one `keepAliveMs` later) is terminated, as with graphql-ws.
 * - once a connection is acknowledged, its `subscribe` and `complete` messages are handled here
 *   (graphql-ws keeps the handshake, pings and malformed messages): each operation is set up
 *   through `onSubscribe` as graphql-ws would, and its results reach the socket through a channel
 *   (see subscription-channels.ts) that identical live subscriptions share, instead of a loop
 *   of promises per subscriber and a serialisation per subscriber and event. `onSubscribe` must
 *   answer the execution arguments (or errors); graphql-ws's `onNext`, `onError`, `onComplete`
 *   and `onOperation` hooks are not called for these operations.
 */
export function serveGraphqlOverWebSocket<Context extends Record<string, unknown>>(
  options: ServerOptions<Context, WebSocketExtra>,
  webSockets: WebSocketServer,
  keepAliveMs: number,
): { dispose(): Promise<void> } {
  // The graphql-ws context of each acknowledged socket.
  const acknowledged = new WeakMap<WebSocket, ConnectionContext<Context, WebSocketExtra>>();
  const server = makeServer<Context, WebSocketExtra>({
    ...options,
    onConnect: async (ctx) => {
      const accepted = options.onConnect ? await options.onConnect(ctx) : true;
      if (accepted !== false) {
        acknowledged.set(ctx.extra.socket, ctx);
        limitFrames(ctx.extra.socket, webSockets.options.maxPayload ?? 0);
      }
      return accepted;
    },
  });
  const operate = operationsOver(options, new SubscriptionChannels());
  webSockets.options.handleProtocols = handleProtocols;
  // The ws server passes on its HTTP server's errors (a port in use, say); unheard, they would
  // crash the process instead of reaching whoever started the HTTP server.
  webSockets.on('error', (error) => log().debug({ err: error }, 'The WebSocket server passed on an error of its HTTP server'));

  const groups: Set<WebSocket>[] = Array.from({ length: KEEP_ALIVE_TURNS }, () => new Set());
  const awaitingPong = new WeakSet<WebSocket>();
  let nextGroup = 0;
  let turn = 0;
  const keepAlive =
    keepAliveMs > 0
      ? setInterval(() => {
          for (const socket of groups[turn]) {
            if (awaitingPong.has(socket)) {
              socket.terminate();
              continue;
            }
            awaitingPong.add(socket);
            socket.ping();
          }
          turn = (turn + 1) % KEEP_ALIVE_TURNS;
        }, keepAliveMs / KEEP_ALIVE_TURNS)
      : undefined;
  keepAlive?.unref();
  function answered(this: WebSocket) {
    awaitingPong.delete(this);
  }
  function failed(this: WebSocket, error: Error) {
    // ws closes a socket that broke the protocol (a frame too large, say) itself: the peer's doing.
    if ((error as { code?: string }).code?.startsWith('WS_ERR_')) return log().info({ reason: error.message }, 'A WebSocket client broke the protocol; closed');
    log().error({ err: error }, 'A WebSocket failed; closing it');
    this.close(CloseCode.InternalServerError, 'Internal server error');
  }

  // One listener function for every socket (`this` is the socket), and per socket one small
  // object for graphql-ws instead of closures: at ten thousand connections, each closure (with
  // the name property the TypeScript loader gives it) is a few hundred bytes more per socket.
  const connections = new WeakMap<WebSocket, GraphqlWsSocket>();
  async function received(this: WebSocket, data: Buffer): Promise<void> {
    const ctx = acknowledged.get(this);
    if (!ctx && data.length > MAX_PAYLOAD_BEFORE_INIT_BYTES) {
      this.close(1009, 'Message too big before connection_init was accepted');
      return;
    }
    try {
      const text = data.toString();
      const operation = ctx && operationMessage(text);
      await (operation ? operate.message(ctx, operation) : connections.get(this)?.handle?.(text));
    } catch (error) {
      log().error({ err: error }, 'Handling a graphql-ws message failed; closing the socket');
      this.close(CloseCode.InternalServerError, 'Internal server error');
    }
  }
  function closedSocket(this: WebSocket, code: number, reason: Buffer): void {
    const connection = connections.get(this);
    if (!connection) return;
    connections.delete(this);
    connection.group.delete(this);
    operate.closed(this);
    connection.closed?.(code, reason.toString()).catch((error: unknown) => log().error({ err: error }, 'Closing a graphql-ws connection failed'));
  }

  webSockets.on('connection', (socket, request) => {
    const group = groups[nextGroup];
    nextGroup = (nextGroup + 1) % KEEP_ALIVE_TURNS;
    group.add(socket);
    limitFrames(socket, MAX_PAYLOAD_BEFORE_INIT_BYTES);
    // `on`, not `once`: a socket emits each once, and `once` wraps the listener per socket.
    socket.on('pong', answered);
    socket.on('error', failed);
    socket.on('message', received);
    socket.on('close', closedSocket);
    const connection = new GraphqlWsSocket(socket, group);
    connections.set(socket, connection);
    connection.closed = server.opened(connection, { socket, request: { method: request.method, url: request.url, headers: request.headers } });
  });

  return {
    async dispose() {
      clearInterval(keepAlive);
      for (const socket of webSockets.clients) socket.close(1001, 'Going away');
      webSockets.removeAllListeners();
      await new Promise<void>((resolve, reject) => webSockets.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** A socket as graphql-ws sees it. */
class GraphqlWsSocket {
  /** graphql-ws's handler of the socket's messages. */
  handle?: (data: string) => Promise<void>;
  /** What graphql-ws does once the socket closed. */
  closed?: (code?: number, reason?: string) => Promise<void>;

  constructor(
    readonly socket: WebSocket,
    /** Its keep-alive turn. */
    readonly group: Set<WebSocket>,
  ) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  send(data: string): void {
    write(this.socket, data);
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  onMessage(handle: (data: string) => Promise<void>): void {
    this.handle = handle;
  }
}

/** A `subscribe` or `complete` message; anything else (or a malformed one) is graphql-ws's to handle. */
function operationMessage(text: string): SubscribeMessage | CompleteMessage | undefined {
  try {
    const message = parseMessage(text);
    return message.type === MessageType.Subscribe || message.type === MessageType.Complete ? message : undefined;
  } catch {
    return undefined;
  }
}

/** An operation of a socket, once its results flow. */
interface Operation extends Member {
  channel: SubscriptionChannel;
}

/** graphql-ws's handling of `subscribe` and `complete`, with results sent through channels. */
function operationsOver<Context extends Record<string, unknown>>(options: ServerOptions<Context, WebSocketExtra>, channels: SubscriptionChannels) {
  // Per socket, its operations by id: null while one is being set up.
  const bySocket = new WeakMap<WebSocket, Map<string, Operation | null>>();
  const ended = (member: Member) => {
    const operations = bySocket.get(member.socket);
    if (operations?.get(member.id) === member) operations.delete(member.id);
  };
  const execute = options.execute ?? executeOperation;
  const subscribe = options.subscribe ?? subscribeOperation;

  async function start(ctx: ConnectionContext<Context, WebSocketExtra>, message: SubscribeMessage): Promise<void> {
    const { socket } = ctx.extra;
    let operations = bySocket.get(socket);
    if (!operations) bySocket.set(socket, (operations = new Map()));
    const { id } = message;
    if (operations.has(id)) return socket.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
    operations.set(id, null);
    let flowing = false;
    try {
      const argsOrErrors = await options.onSubscribe?.(ctx, id, message.payload);
      if (!argsOrErrors) throw new Error('onSubscribe must answer the execution arguments of every operation');
      if (areGraphQLErrors(argsOrErrors)) {
        if (operations.has(id)) write(socket, errorMessage(id, argsOrErrors));
        return;
      }
      if (Array.isArray(argsOrErrors)) throw new Error('Invalid return value from onSubscribe hook, expected an array of GraphQLError objects');
      const args = argsOrErrors as ExecutionArgs;
      const definition = getOperationAST(args.document, args.operationName);
      if (!definition) {
        if (operations.has(id)) write(socket, errorMessage(id, [new GraphQLError('Unable to identify operation')]));
        return;
      }
      const result = await (definition.operation === 'subscription' ? subscribe(args) : execute(args));
      if (isAsyncIterable(result)) {
        const results = result[Symbol.asyncIterator]();
        // Completed (or its socket closed) while being set up.
        if (!operations.has(id)) return void results.return?.();
        const operation = { socket, id, onEnd: ended } as Operation;
        operation.channel = channels.attach(results, args.contextValue, operation);
        operations.set(id, operation);
        flowing = true;
        return;
      }
      if (operations.has(id)) {
        write(socket, nextMessage(id, resultJson(result as ExecutionResult)));
        write(socket, completeMessage(id));
      }
    } finally {
      if (!flowing) operations.delete(id);
    }
  }

  return {
    message(ctx: ConnectionContext<Context, WebSocketExtra>, message: SubscribeMessage | CompleteMessage): Promise<void> | void {
      if (message.type === MessageType.Subscribe) return start(ctx, message);
      const operations = bySocket.get(ctx.extra.socket);
      const operation = operations?.get(message.id);
      operations?.delete(message.id);
      operation?.channel.remove(operation);
    },
    closed(socket: WebSocket): void {
      const operations = bySocket.get(socket);
      if (!operations) return;
      bySocket.delete(socket);
      for (const operation of operations.values()) operation?.channel.remove(operation);
      operations.clear();
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

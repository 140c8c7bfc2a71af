import type { IncomingMessage } from 'node:http';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { log } from '../observability/log.js';

/** What graphql-ws hands every hook as `ctx.extra`. */
export interface WebSocketExtra {
  socket: WebSocket;
  request: IncomingMessage;
}

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
 */
export function serveGraphqlOverWebSocket<Context extends Record<string, unknown>>(
  options: ServerOptions<Context, WebSocketExtra>,
  webSockets: WebSocketServer,
  keepAliveMs: number,
): { dispose(): Promise<void> } {
  const initialized = new WeakSet<WebSocket>();
  const server = makeServer<Context, WebSocketExtra>({
    ...options,
    onConnect: async (ctx) => {
      const accepted = options.onConnect ? await options.onConnect(ctx) : true;
      if (accepted !== false) {
        initialized.add(ctx.extra.socket);
        limitFrames(ctx.extra.socket, webSockets.options.maxPayload ?? 0);
      }
      return accepted;
    },
  });
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

  webSockets.on('connection', (socket, request) => {
    const group = groups[nextGroup];
    nextGroup = (nextGroup + 1) % KEEP_ALIVE_TURNS;
    group.add(socket);
    limitFrames(socket, MAX_PAYLOAD_BEFORE_INIT_BYTES);
    socket.on('pong', answered);
    socket.once('error', failed);

    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => {
          if (socket.readyState === socket.OPEN) socket.send(data);
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', async (data: Buffer) => {
            if (!initialized.has(socket) && data.length > MAX_PAYLOAD_BEFORE_INIT_BYTES) {
              socket.close(1009, 'Message too big before connection_init was accepted');
              return;
            }
            try {
              await handle(data.toString());
            } catch (error) {
              log().error({ err: error }, 'Handling a graphql-ws message failed; closing the socket');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            }
          }),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      group.delete(socket);
      closed(code, reason.toString()).catch((error: unknown) => log().error({ err: error }, 'Closing a graphql-ws connection failed'));
    });
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

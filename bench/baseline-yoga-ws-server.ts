// The middle baseline for the subscribers scenario: the service's GraphQL stack alone (yoga,
// graphql-ws on `ws`, wired as src/server.ts wires them) with a trivial orderEvents subscription
// fed from memory: no authentication, no database, no Pothos, no event feed. Between the bare
// `ws` server and the service, it splits what a subscriber costs into "the GraphQL stack" and
// "what the service adds".
//
// POST /broadcast publishes one event (the request body: the event's fields) to every
// subscription. Env: PORT.
import http from 'node:http';
import { EventEmitter } from 'node:events';
import { createSchema, createYoga, Repeater } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';

interface BenchEvent {
  sequence: string;
  refId: string;
  type: string;
  status: string;
}

const events = new EventEmitter();
events.setMaxListeners(0);

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type OrderEvent {
      sequence: String!
      refId: ID!
      type: String!
      status: String!
    }
    type Query {
      ok: Boolean!
    }
    type Subscription {
      orderEvents: OrderEvent!
    }
  `,
  resolvers: {
    Query: { ok: () => true },
    Subscription: {
      orderEvents: {
        // A Repeater, as the service's streams: it ends as soon as the client leaves (an async
        // generator waiting in `for await` would linger until the next event).
        subscribe: () =>
          new Repeater<{ orderEvents: BenchEvent }>(async (push, stop) => {
            const listener = (event: BenchEvent) => void push({ orderEvents: event });
            events.on('event', listener);
            await stop;
            events.off('event', listener);
          }),
      },
    },
  },
});

const yoga = createYoga({ schema, graphqlEndpoint: '/graphql', landingPage: false, graphiql: false });

const server = http.createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/health') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (request.method === 'POST' && request.url === '/broadcast') {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      events.emit('event', JSON.parse(Buffer.concat(chunks).toString('utf8')) as BenchEvent);
      response.writeHead(204).end();
    });
    return;
  }
  void yoga(request, response);
});

// As in src/server.ts: graphql-ws runs every operation through yoga's envelop chain.
const webSockets = new WebSocketServer({ server, path: '/graphql' });
useServer(
  {
    execute: (args) => (args.rootValue as { execute: typeof import('graphql').execute }).execute(args),
    subscribe: (args) => (args.rootValue as { subscribe: typeof import('graphql').subscribe }).subscribe(args),
    onSubscribe: async (ctx, _id, payload) => {
      const { schema: envelopedSchema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
        ...ctx,
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        params: payload,
      });
      const document = parse(payload.query);
      const errors = validate(envelopedSchema, document);
      if (errors.length) return errors;
      return {
        schema: envelopedSchema,
        operationName: payload.operationName,
        document,
        variableValues: payload.variables,
        contextValue: await contextFactory(),
        rootValue: { execute, subscribe },
      };
    },
  },
  webSockets,
);
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');

const stop = () => {
  for (const socket of webSockets.clients) socket.terminate();
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

// The bare baseline for the subscribers scenario: a `ws` server that only holds connections and,
// on POST /broadcast, sends the request body to every one of them. What the service adds on top
// (graphql-ws, authentication, a subscription per socket, the event feed) is measured against it.
//
// Env: PORT.
import http from 'node:http';
import { WebSocketServer } from 'ws';

const server = http.createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/health') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (request.method === 'POST' && request.url === '/broadcast') {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const message = Buffer.concat(chunks).toString('utf8');
      for (const socket of sockets.clients) socket.send(message);
      response.writeHead(204).end();
    });
    return;
  }
  response.writeHead(404).end();
});
const sockets = new WebSocketServer({ server, path: '/ws' });
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');

const stop = () => {
  for (const socket of sockets.clients) socket.terminate();
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

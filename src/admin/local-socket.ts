// The running embedded server takes the operator's commands on a Unix socket inside its data
// folder, so the CLI works while the server holds the folder (one PGlite per folder, ever). Who
// may connect is decided by the file system: the socket sits in a folder only the service's user
// can enter (0700), the same user who can read the data anyway.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ADMIN_COMMANDS, AdminInputError, runAdminCommand, type AdminContext, type AdminRequest } from './commands.js';

/** Unix socket paths are limited to about 107 bytes (sun_path). */
const MAX_SOCKET_PATH = 100;
const MAX_REQUEST_BYTES = 64 * 1024;

export function adminSocketPath(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'admin', 'srs.sock');
}

export interface AdminSocket {
  /** The socket's path, or undefined when it could not be served (a data folder path too long). */
  path?: string;
  close(): Promise<void>;
}

/** Serves the admin commands on DATA_DIR/admin/srs.sock for as long as the server runs. */
export async function serveAdminSocket(dataDir: string, context: AdminContext, onProblem: (message: string) => void): Promise<AdminSocket> {
  const socketPath = adminSocketPath(dataDir);
  if (socketPath.length > MAX_SOCKET_PATH) {
    onProblem(`The CLI cannot reach this server while it runs: the admin socket path ${socketPath} is too long for a Unix socket; use a shorter DATA_DIR.`);
    return { close: async () => {} };
  }
  fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(socketPath), 0o700);
  // We hold the folder's lock: a socket file left here is from a process that is gone.
  fs.rmSync(socketPath, { force: true });
  const server = http.createServer((request, response) => void answer(request, response, context));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    path: socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        fs.rmSync(socketPath, { force: true });
      }),
  };
}

async function answer(request: http.IncomingMessage, response: http.ServerResponse, context: AdminContext): Promise<void> {
  const send = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  if (request.method === 'GET' && request.url === '/info') return send(200, { pid: process.pid, database: context.database.location });
  if (request.method !== 'POST' || request.url !== '/run') return send(404, { error: 'not_found' });
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) return send(413, { error: 'too_large' });
    chunks.push(chunk);
  }
  let adminRequest: AdminRequest;
  try {
    adminRequest = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdminRequest;
  } catch {
    return send(400, { error: 'bad_request', message: 'The body is not JSON.' });
  }
  // Only the service's own user can reach the socket, but what arrives is still checked.
  if (!isAdminRequest(adminRequest)) return send(400, { error: 'bad_request', message: 'Not a known command with its arguments.' });
  try {
    send(200, { result: await runAdminCommand(context, adminRequest) });
  } catch (error) {
    if (error instanceof AdminInputError) return send(422, { error: 'refused', problems: error.problems });
    send(500, { error: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
}

function isAdminRequest(value: unknown): value is AdminRequest {
  if (typeof value !== 'object' || value === null) return false;
  const request = value as Record<string, unknown>;
  const text = (key: string) => typeof request[key] === 'string';
  const optionalText = (key: string) => request[key] === undefined || typeof request[key] === 'string';
  switch (request.command as (typeof ADMIN_COMMANDS)[number]) {
    case 'clients create':
      return text('name') && text('role') && optionalText('issuer') && (request.scopes === undefined || (Array.isArray(request.scopes) && request.scopes.every((scope) => typeof scope === 'string')));
    case 'clients list':
    case 'keys rotate-evidence':
      return true;
    case 'clients disable':
      return text('clientId');
    case 'clients set-rate-limit':
      return text('clientId') && (request.perSecond === null || (Number.isInteger(request.perSecond) && (request.perSecond as number) >= 0 && (request.perSecond as number) <= 1_000_000));
    case 'evidence revoke':
      return text('evidenceId') && text('reason');
    default:
      return false;
  }
}

/** The answer of a running server to an admin request. */
export type AdminAnswer = { result: Record<string, unknown> } | { problems: string[] } | { failure: string };

/**
 * Sends a command to the server running on `dataDir`; undefined when nothing answers on its socket
 * (the server is still starting, or serves no socket).
 */
export function askRunningServer(dataDir: string, request: AdminRequest | 'info'): Promise<AdminAnswer | undefined> {
  const body = request === 'info' ? undefined : JSON.stringify(request);
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { socketPath: adminSocketPath(dataDir), method: body ? 'POST' : 'GET', path: body ? '/run' : '/info', headers: { 'content-type': 'application/json' } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          try {
            const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
            if (response.statusCode === 200) return resolve({ result: (parsed.result ?? parsed) as Record<string, unknown> });
            if (response.statusCode === 422) return resolve({ problems: parsed.problems as string[] });
            resolve({ failure: String(parsed.message ?? parsed.error ?? `status ${response.statusCode}`) });
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve(undefined);
      else reject(error);
    });
    outgoing.end(body);
  });
}

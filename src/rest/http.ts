// HTTP plumbing of the REST routes: media types, JSON bodies, JSON answers and errors.
import type http from 'node:http';

/** Media types of the commercial SRS's routes: orders and methods, and evidence look-ups. */
export const PROVIDER_MEDIA_TYPE = 'application/vnd.sc.miss.provider.v1+json';
export const EVIDENCE_MEDIA_TYPE = 'application/vnd.sc.ras.evidence.v1+json';

const MAX_BODY_BYTES = 64 * 1024;

/** A refusal of the REST layer: HTTP status, a stable code, a message, and the field at fault. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string | null,
    readonly details?: Array<{ code: string; message: string; field: string | null }>,
    /** Headers the answer carries, e.g. Retry-After of a 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The media type without parameters, lower case: `Application/JSON; charset=utf-8` -> `application/json`. */
function essence(mediaType: string): string {
  return mediaType.split(';')[0].trim().toLowerCase();
}

/**
 * Reads a JSON request body sent as `mediaType` (plain application/json is taken too): 415 for
 * another or no media type, 413 past 64 KiB, 400 for malformed JSON or a body that is no object.
 */
export async function readJsonBody(request: http.IncomingMessage, mediaType: string): Promise<Record<string, unknown>> {
  const contentType = essence(request.headers['content-type'] ?? '');
  if (contentType !== mediaType && contentType !== 'application/json') {
    request.resume();
    throw new RestError(415, 'UNSUPPORTED_MEDIA_TYPE', `Send the body as ${mediaType} (or application/json).`);
  }
  const text = (await readBody(request)).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new RestError(400, 'MALFORMED_JSON', 'The body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RestError(400, 'MALFORMED_JSON', 'The body must be a JSON object.');
  return body as Record<string, unknown>;
}

/** The raw request body, at most 64 KiB (413 past it). */
export async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (declared > MAX_BODY_BYTES) {
    request.resume();
    throw new RestError(413, 'PAYLOAD_TOO_LARGE', `The body is larger than ${MAX_BODY_BYTES} bytes.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RestError(413, 'PAYLOAD_TOO_LARGE', `The body is larger than ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The media type to answer with: the route's own when the client asks for it (or for anything),
 * application/json when it asks for that only; 406 when it accepts neither.
 */
export function answerMediaType(request: http.IncomingMessage, mediaType: string): string {
  const accept = request.headers.accept;
  if (!accept) return mediaType;
  const ranges = accept.split(',').map((range) => essence(range));
  if (ranges.some((range) => range === mediaType || range === '*/*' || range === 'application/*')) return mediaType;
  if (ranges.includes('application/json')) return 'application/json';
  throw new RestError(406, 'NOT_ACCEPTABLE', `This route answers ${mediaType} (or application/json).`);
}

export function sendJson(response: http.ServerResponse, status: number, body: unknown, mediaType = 'application/json', headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': `${mediaType}; charset=utf-8`, 'cache-control': 'no-store', ...headers });
  response.end(JSON.stringify(body));
}

export function sendError(response: http.ServerResponse, error: RestError): void {
  const headers: Record<string, string> = { ...error.headers, ...(error.status === 401 && { 'www-authenticate': 'Bearer error="invalid_token"' }) };
  sendJson(
    response,
    error.status,
    { code: error.code, message: error.message, ...(error.field && { field: error.field }), ...(error.details && { errors: error.details }) },
    'application/json',
    headers,
  );
}

import { createGraphQLError, type Plugin } from 'graphql-yoga';

/**
 * Refuses GraphQL request bodies over `limitBytes` with 413 REQUEST_ENTITY_TOO_LARGE, in place of
 * yoga's own limit (`maxRequestBodySize: false`), which pipes every body through a counting
 * stream. A body with a Content-Length needs no counting: Node's HTTP parser hands on exactly
 * that many bytes, so the header is checked and the body left alone. Only a chunked body, whose
 * size nobody knows beforehand, is counted as it arrives.
 *
 * Must come after every plugin that sets a request parser.
 */
export function useRequestBodyLimit(limitBytes: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        if (Number(declared) > limitBytes) throw tooLarge(limitBytes);
        return;
      }
      if (!requestParser || !request.body) return;
      setRequestParser((received) => {
        let bytes = 0;
        const counted = received.body!.pipeThrough(
          new fetchAPI.TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              bytes += chunk.byteLength;
              if (bytes > limitBytes) controller.error(tooLarge(limitBytes));
              else controller.enqueue(chunk);
            },
          }),
        );
        const limited = new fetchAPI.Request(received.url, { method: received.method, headers: received.headers, signal: received.signal, body: counted, duplex: 'half' } as RequestInit);
        return requestParser(limited);
      });
    },
  };
}

function tooLarge(limitBytes: number) {
  return createGraphQLError(`The request body is larger than ${limitBytes} bytes.`, {
    extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' },
  });
}

// GraphiQL from the project's own dependencies: @graphql-yoga/render-graphiql ships GraphiQL,
// its styles and Monaco's workers as strings, which we serve as files of our own origin. No CDN,
// no inline script: the page's CSP allows scripts and workers from 'self' only.
import http from 'node:http';
import { createHash } from 'node:crypto';

/** Where the page's files are served. */
export const GRAPHIQL_ASSETS_PATH = '/graphiql/';

const PLACEHOLDER_TOKEN = 'PASTE-YOUR-ACCESS-TOKEN-HERE';

/**
 * GraphiQL's own CSP, set on its responses (it must win over any default of the service). React
 * and Monaco set inline styles, and Monaco's icon font and GraphiQL's icons are data: URLs.
 */
export const GRAPHIQL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': GRAPHIQL_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

// Runs in the browser, before GraphiQL. Two things GraphiQL does not do by itself:
// - the schema is fetched once, at load, with the headers of that moment: before the user has
//   pasted a token it fails ("Error fetching schema"). Once the headers change and the last
//   attempt failed, we press GraphiQL's own "Re-fetch GraphQL schema" button.
// - headers are kept in memory only (shouldPersistHeaders: false): a token never reaches
//   localStorage.
const START_SCRIPT = `(() => {
  const options = JSON.parse(document.getElementById('graphiql-options').textContent);
  let schemaLoaded = false;
  const browserFetch = globalThis.fetch.bind(globalThis);
  globalThis.fetch = async (input, init) => {
    const response = await browserFetch(input, init);
    if (typeof init?.body === 'string' && init.body.includes('IntrospectionQuery')) {
      try {
        const body = await response.clone().json();
        schemaLoaded = Boolean(body && body.data && body.data.__schema);
      } catch {
        schemaLoaded = false;
      }
    }
    return response;
  };
  let pending;
  options.onEditHeaders = (headers) => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      if (schemaLoaded) return;
      try {
        const authorization = JSON.parse(headers).Authorization || '';
        if (!/^Bearer\\s+\\S+$/.test(authorization) || authorization.includes(${JSON.stringify(PLACEHOLDER_TOKEN)})) return;
      } catch {
        return;
      }
      const refetch = document.querySelector('button[aria-label^="Re-fetch GraphQL schema"]');
      if (refetch) refetch.click();
    }, 300);
  };
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: (_moduleId, label) => ${JSON.stringify(GRAPHIQL_ASSETS_PATH)} + (label === 'json' ? 'json-worker.js' : label === 'graphql' ? 'graphql-worker.js' : 'editor-worker.js'),
  };
  YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), options);
})();
`;

interface Asset {
  type: string;
  body: Buffer;
  etag: string;
}

function asset(type: string, text: string): Asset {
  const body = Buffer.from(text, 'utf8');
  return { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Serves GraphiQL on GET /graphql (for a browser) and its files under /graphiql/. */
export function createGraphiqlPage(options: { title: string }) {
  let assets: Promise<Map<string, Asset>> | undefined;
  // 9 MB of strings: loaded on the first visit, not at every start.
  const loadAssets = () =>
    (assets ??= import('@graphql-yoga/render-graphiql/graphiql').then((bundle) => {
      const graphiqlOptions = {
        title: options.title,
        headers: JSON.stringify({ Authorization: `Bearer ${PLACEHOLDER_TOKEN}` }, null, 2),
        shouldPersistHeaders: false,
        showPersistHeadersSettings: false,
        // Server-sent events carry the Headers tab on every subscription (graphql-ws would need
        // them in connectionParams, which GraphiQL fills only from fixed options).
        subscriptionsProtocol: 'SSE',
        endpoint: '/graphql',
      };
      const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${escapeHtml(options.title)}</title>
    <link rel="icon" href="${escapeHtml(bundle.favicon)}" />
    <link rel="stylesheet" href="${GRAPHIQL_ASSETS_PATH}graphiql.css" />
  </head>
  <body class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script type="application/json" id="graphiql-options">${JSON.stringify(graphiqlOptions).replace(/</g, '\\u003c')}</script>
    <script src="${GRAPHIQL_ASSETS_PATH}graphiql.js"></script>
    <script src="${GRAPHIQL_ASSETS_PATH}start.js"></script>
  </body>
</html>
`;
      return new Map([
        ['page', asset('text/html; charset=utf-8', html)],
        ['graphiql.css', asset('text/css; charset=utf-8', bundle.css)],
        ['graphiql.js', asset('text/javascript; charset=utf-8', bundle.js)],
        ['start.js', asset('text/javascript; charset=utf-8', START_SCRIPT)],
        ['editor-worker.js', asset('text/javascript; charset=utf-8', bundle.editorWorkerService)],
        ['json-worker.js', asset('text/javascript; charset=utf-8', bundle.jsonWorker)],
        ['graphql-worker.js', asset('text/javascript; charset=utf-8', bundle.graphqlWorker)],
      ]);
    }));

  return {
    /** Answers the request and returns true when it is GraphiQL's; false leaves it to the API. */
    async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<boolean> {
      const path = (request.url ?? '/').split('?')[0];
      let name: string | undefined;
      if (path === '/graphql') {
        // As yoga decides: a browser's GET asking for HTML gets GraphiQL, anything else the API.
        if (request.method !== 'GET' || !request.headers.accept?.includes('text/html')) return false;
        name = 'page';
      } else if (path.startsWith(GRAPHIQL_ASSETS_PATH)) {
        name = path.slice(GRAPHIQL_ASSETS_PATH.length);
        if (name === 'page' || (request.method !== 'GET' && request.method !== 'HEAD')) name = undefined;
      } else {
        return false;
      }
      const file = name ? (await loadAssets()).get(name) : undefined;
      if (!file) {
        response.writeHead(404, { 'content-type': 'application/json', ...SECURITY_HEADERS });
        response.end(JSON.stringify({ error: 'not_found', message: `Nothing at ${request.method} ${path}.` }));
        return true;
      }
      const headers = {
        'content-type': file.type,
        etag: file.etag,
        // The page is small and may change with the service; the files are named by the bundle.
        'cache-control': name === 'page' ? 'no-cache' : 'public, max-age=3600',
        ...SECURITY_HEADERS,
      };
      if (request.headers['if-none-match'] === file.etag) {
        response.writeHead(304, headers);
        response.end();
        return true;
      }
      response.writeHead(200, { ...headers, 'content-length': file.body.length });
      response.end(request.method === 'HEAD' ? undefined : file.body);
      return true;
    },
  };
}

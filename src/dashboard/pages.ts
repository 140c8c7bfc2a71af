// The operations dashboard's pages: sign-in, the dashboard, an order's timeline, and their
// static files (our script and stylesheet, Chart.js from node_modules). The pages hold no data:
// the script reads everything through the public GraphQL API with the session cookie.
import fs from 'node:fs';
import type http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Provider from 'oidc-provider';
import type { DataProtection } from '../crypto/data-protection.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { escapeHtml, readForm } from '../partners/http-helpers.js';
import { createDashboardSessions, type DashboardSessions } from './sessions.js';
import { bundleFor, DASHBOARD_LANGUAGES, languageOf, textsFor, type DashboardLanguage } from './i18n.js';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const require = createRequire(import.meta.url);
const ASSETS: Record<string, { file: string; type: string }> = {
  'dashboard.js': { file: path.join(import.meta.dirname, 'assets', 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: path.join(import.meta.dirname, 'assets', 'dashboard.css'), type: 'text/css; charset=utf-8' },
  'chart.umd.min.js': { file: path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' },
};

export interface Dashboard {
  sessions: DashboardSessions;
  /** Handles /dashboard and everything under it; false for any other path. */
  handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<boolean>;
}

export function createDashboard(deps: { prisma: PrismaClient; oidc: Provider; dataProtection: DataProtection; config: { publicUrl: string; internalUrl: string } }): Dashboard {
  const sessions = createDashboardSessions({ prisma: deps.prisma, oidc: deps.oidc, dataProtection: deps.dataProtection, publicUrl: deps.config.publicUrl, internalUrl: deps.config.internalUrl });
  const assets = new Map<string, { body: Buffer; type: string }>();
  const asset = (name: string) => {
    const known = ASSETS[name];
    if (!known) return undefined;
    if (!assets.has(name)) assets.set(name, { body: fs.readFileSync(known.file), type: known.type });
    return assets.get(name);
  };

  return {
    sessions,
    async handle(request, response) {
      const url = new URL(request.url ?? '/', 'http://dashboard.invalid');
      const pathname = url.pathname;
      if (pathname !== '/dashboard' && !pathname.startsWith('/dashboard/')) return false;
      const language = languageOf(url.searchParams, request.headers['accept-language']);
      const cookieHeader = request.headers.cookie;

      if (pathname.startsWith('/dashboard/assets/') && request.method === 'GET') {
        const found = asset(pathname.slice('/dashboard/assets/'.length));
        if (!found) return notFound(response);
        response.writeHead(200, { 'content-type': found.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
        response.end(found.body);
        return true;
      }
      if ((pathname === '/dashboard' || pathname === '/dashboard/') && request.method === 'GET') {
        if (!(await sessions.hasSession(cookieHeader))) return sendPage(response, 200, signInPage(language));
        return sendPage(response, 200, dashboardPage(language));
      }
      if (pathname === '/dashboard/sign-in' && request.method === 'POST') {
        let form: Record<string, string>;
        try {
          form = await readForm(request);
        } catch {
          return sendPage(response, 413, signInPage(language, 'invalid'));
        }
        const formLanguage = languageOf(new URLSearchParams({ lang: form.lang ?? '' }), request.headers['accept-language']);
        if (!sessions.sameOrigin(request.headers)) return sendPage(response, 403, signInPage(formLanguage, 'forbidden'));
        const result = await sessions.signIn((form.client_id ?? '').trim(), form.client_secret ?? '');
        if (!result.ok) return sendPage(response, result.reason === 'invalid_client' ? 401 : 503, signInPage(formLanguage, result.reason === 'invalid_client' ? 'invalid' : 'unavailable'));
        response.writeHead(303, { location: `/dashboard?lang=${formLanguage}`, 'set-cookie': result.setCookie, 'cache-control': 'no-store' });
        response.end();
        return true;
      }
      if (pathname === '/dashboard/sign-out' && request.method === 'POST') {
        await readForm(request).catch(() => ({}));
        if (!sessions.sameOrigin(request.headers)) return sendPage(response, 403, signInPage(language, 'forbidden'));
        const cleared = await sessions.signOut(cookieHeader);
        response.writeHead(303, { location: `/dashboard?lang=${language}`, 'set-cookie': cleared, 'cache-control': 'no-store' });
        response.end();
        return true;
      }
      const timeline = /^\/dashboard\/orders\/([A-Za-z0-9-]{1,64})$/.exec(pathname);
      if (timeline && request.method === 'GET') {
        if (!(await sessions.hasSession(cookieHeader))) {
          response.writeHead(303, { location: `/dashboard?lang=${language}`, 'cache-control': 'no-store' });
          response.end();
          return true;
        }
        return sendPage(response, 200, timelinePage(language, timeline[1]));
      }
      return notFound(response);
    },
  };
}

function notFound(response: http.ServerResponse): true {
  response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-security-policy': CSP });
  response.end('Not found');
  return true;
}

function sendPage(response: http.ServerResponse, status: number, html: string): true {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': CSP,
    // Not no-referrer: with it a browser sends `Origin: null` on our own form posts, which the
    // same-origin check must then refuse.
    'referrer-policy': 'same-origin',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
  });
  response.end(html);
  return true;
}

const LANGUAGE_NAMES: Record<DashboardLanguage, string> = { en: 'English', de: 'Deutsch', fr: 'Français', it: 'Italiano' };

function shell(language: DashboardLanguage, title: string, body: string, options: { script?: boolean; page?: string } = {}): string {
  const t = textsFor(language);
  const switcher = DASHBOARD_LANGUAGES.map((code) =>
    code === language
      ? `<li><a href="?lang=${code}" lang="${code}" aria-current="true">${LANGUAGE_NAMES[code]}</a></li>`
      : `<li><a href="?lang=${code}" lang="${code}">${LANGUAGE_NAMES[code]}</a></li>`,
  ).join('');
  // JSON in a non-executed script element: CSP allows it, and `<` is escaped so it cannot end the element.
  const texts = JSON.stringify(bundleFor(language)).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="${language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
${options.script ? '<script src="/dashboard/assets/chart.umd.min.js" defer></script>\n<script src="/dashboard/assets/dashboard.js" defer></script>' : ''}
</head>
<body${options.page ? ` data-page="${options.page}"` : ''}>
<header class="top">
<p class="brand">${escapeHtml(t('title'))}</p>
<nav aria-label="${escapeHtml(t('language'))}"><ul class="languages">${switcher}</ul></nav>
</header>
${body}
<script type="application/json" id="dashboard-texts">${texts}</script>
</body></html>`;
}

function signInPage(language: DashboardLanguage, problem?: 'invalid' | 'unavailable' | 'forbidden'): string {
  const t = textsFor(language);
  return shell(
    language,
    `${t('signIn.heading')} · ${t('title')}`,
    `<main class="narrow">
<h1>${escapeHtml(t('signIn.heading'))}</h1>
${problem ? `<p class="problem" role="alert">${escapeHtml(t(`signIn.${problem}`))}</p>` : ''}
<form method="post" action="/dashboard/sign-in" class="sign-in">
<input type="hidden" name="lang" value="${language}">
<label for="client-id">${escapeHtml(t('signIn.clientId'))}</label>
<input id="client-id" name="client_id" autocomplete="username" required maxlength="500">
<label for="client-secret">${escapeHtml(t('signIn.clientSecret'))}</label>
<input id="client-secret" name="client_secret" type="password" autocomplete="current-password" required maxlength="500">
<button type="submit">${escapeHtml(t('signIn.button'))}</button>
</form>
</main>`,
  );
}

function signOutForm(language: DashboardLanguage): string {
  return `<form method="post" action="/dashboard/sign-out?lang=${language}" class="sign-out"><button type="submit">${escapeHtml(textsFor(language)('signOut'))}</button></form>`;
}

function dashboardPage(language: DashboardLanguage): string {
  const t = textsFor(language);
  const periods = ['TODAY', 'LAST_7_DAYS', 'LAST_30_DAYS']
    .map((period) => `<option value="${period}">${escapeHtml(t(`period.${period}`))}</option>`)
    .join('');
  return shell(
    language,
    t('title'),
    `<main class="dashboard">
<div class="heading">
<h1>${escapeHtml(t('title'))}</h1>
<p id="viewer" class="meta"></p>
${signOutForm(language)}
</div>
<section class="card status" aria-labelledby="status-heading">
<h2 id="status-heading">${escapeHtml(t('byStatus.caption'))}</h2>
<p class="period"><label for="period">${escapeHtml(t('period.label'))}</label> <select id="period">${periods}</select></p>
<table id="orders-by-status">
<caption>${escapeHtml(t('byStatus.caption'))}</caption>
<thead><tr><th scope="col">${escapeHtml(t('byStatus.status'))}</th><th scope="col" class="number">${escapeHtml(t('byStatus.count'))}</th></tr></thead>
<tbody></tbody>
<tfoot><tr><th scope="row">${escapeHtml(t('byStatus.total'))}</th><td class="number" id="orders-total">0</td></tr></tfoot>
</table>
<div id="providers" hidden></div>
</section>
<section class="card funnel" aria-labelledby="funnel-heading">
<h2 id="funnel-heading">${escapeHtml(t('funnel.heading'))}</h2>
<div id="funnels"></div>
</section>
<section class="card timings" aria-labelledby="timings-heading">
<h2 id="timings-heading">${escapeHtml(t('timings.heading'))}</h2>
<div id="timings"></div>
</section>
<section class="card health" aria-labelledby="health-heading">
<h2 id="health-heading">${escapeHtml(t('health.heading'))}</h2>
<div id="partner-health"></div>
</section>
<section class="card webhooks" aria-labelledby="webhooks-heading">
<h2 id="webhooks-heading">${escapeHtml(t('webhooks.heading'))}</h2>
<div id="webhooks"><p class="meta">${escapeHtml(t('webhooks.loading'))}</p></div>
</section>
<section class="card events" aria-labelledby="events-heading">
<h2 id="events-heading">${escapeHtml(t('events.heading'))}</h2>
<p id="stream-state" role="status" data-state="connecting">${escapeHtml(t('events.connecting'))}</p>
<ol id="events" class="events-list"></ol>
<p id="no-events" class="meta">${escapeHtml(t('events.none'))}</p>
</section>
</main>`,
    { script: true, page: 'dashboard' },
  );
}

function timelinePage(language: DashboardLanguage, refId: string): string {
  const t = textsFor(language);
  return shell(
    language,
    `${t('timeline.heading', { refId })} · ${t('title')}`,
    `<main class="timeline" data-ref-id="${escapeHtml(refId)}">
<div class="heading">
<h1>${escapeHtml(t('timeline.heading', { refId }))}</h1>
<p><a href="/dashboard?lang=${language}">${escapeHtml(t('timeline.back'))}</a></p>
${signOutForm(language)}
</div>
<section class="card" aria-labelledby="order-heading">
<h2 id="order-heading">${escapeHtml(t('timeline.status'))}</h2>
<dl id="order-summary"></dl>
</section>
<section class="card" aria-labelledby="order-events-heading">
<h2 id="order-events-heading">${escapeHtml(t('timeline.events'))}</h2>
<ol id="order-events" class="events-list"></ol>
</section>
</main>`,
    { script: true, page: 'timeline' },
  );
}

// The end users' pages: eta templates (src/pages/templates, every value escaped) filled with the
// texts of one language (src/i18n).
import type http from 'node:http';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import { sendHtml } from '../partners/http-helpers.js';
import { chooseLanguage, translator } from '../i18n/index.js';

const eta = new Eta({ views: fileURLToPath(new URL('./templates/', import.meta.url)), autoEscape: true, cache: true });

/** The language of a page: the order's, else the browser's, else English. */
export function pageLanguage(request: http.IncomingMessage, orderLanguage?: string | null): string {
  return chooseLanguage({ orderLanguage, acceptLanguage: request.headers['accept-language'] });
}

/**
 * Renders `template` in `language` and sends it. The template gets `it.t` (the texts of
 * pages.json under `keyPrefix`), `it.lang`, `it.title` and `data`.
 */
export function sendPage(
  response: http.ServerResponse,
  status: number,
  page: { language: string; keyPrefix: string; template: string; title: string; data?: Record<string, unknown> },
): void {
  const t = translator(page.language, 'pages');
  const html = eta.render(`./${page.template}`, {
    ...page.data,
    lang: page.language,
    title: page.title,
    t: (key: string, values: Record<string, unknown> = {}) => t(`${page.keyPrefix}.${key}`, values),
  });
  // The same URL answers in other languages for other browsers.
  response.setHeader('content-language', page.language);
  response.setHeader('vary', 'Accept-Language');
  sendHtml(response, status, html);
}

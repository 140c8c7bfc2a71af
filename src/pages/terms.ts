// The T&C page the SMS link opens: the terms version, Accept or Decline. Works in any browser,
// with no script, in the order's language (else the browser's, else English).
import type http from 'node:http';
import { ClientRequestError } from '../http/errors.js';
import { readForm } from '../partners/http-helpers.js';
import { decideByLink, findTermsByLink, type TermsDeps, type TermsLinkState } from '../services/terms.js';
import { formatDateTime, translator } from '../i18n/index.js';
import { pageLanguage, sendPage } from './render.js';

export function createTermsPages(deps: Pick<TermsDeps, 'prisma' | 'database' | 'bus' | 'termsVersion'>) {
  const show = (response: http.ServerResponse, status: number, language: string, template: string, data: Record<string, unknown>) =>
    sendPage(response, status, { language, keyPrefix: 'terms', template, title: translator(language, 'pages')('terms.title'), data });

  const message = (response: http.ServerResponse, status: number, language: string, text: string, data: Record<string, unknown> = {}) =>
    show(response, status, language, 'message', { message: translator(language, 'pages')(`terms.${text}`, data), ...data });

  const ended = (response: http.ServerResponse, language: string, found: TermsLinkState) =>
    message(response, 410, language, found.state === 'expired' ? 'expired' : 'notValid', { testId: 'terms-ended' });

  const languageOf = (request: http.IncomingMessage, found: TermsLinkState) => pageLanguage(request, found.state === 'unknown' ? null : found.language);

  return {
    /** Handles GET and POST /terms/<token>; false when the path is not a T&C link. */
    async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<boolean> {
      const match = /^\/terms\/([A-Za-z0-9_-]{16,100})\/?(?:\?.*)?$/.exec(request.url ?? '');
      if (!match) return false;
      const token = match[1];
      if (request.method === 'GET') {
        const found = await findTermsByLink(deps.prisma, token);
        const language = languageOf(request, found);
        if (found.state !== 'open') ended(response, language, found);
        else {
          const validUntil = found.terms.linkExpiresAt && formatDateTime(language, found.terms.linkExpiresAt);
          show(response, 200, language, 'terms', { termsVersion: deps.termsVersion, validUntil });
        }
        return true;
      }
      if (request.method === 'POST') {
        let form: Record<string, string>;
        try {
          form = await readForm(request);
        } catch (error) {
          // Past 64 KiB: a page in the reader's language. A body cut off is answered 400 by the server's route errors.
          if (!(error instanceof ClientRequestError && error.status === 413)) throw error;
          request.resume();
          message(response, 413, pageLanguage(request), 'tooLarge', { alert: true });
          return true;
        }
        // Looked up first: the decision uses the link up, and with it the way to the order's language.
        const found = await findTermsByLink(deps.prisma, token);
        const language = languageOf(request, found);
        if (form.decision !== 'accept' && form.decision !== 'decline') {
          message(response, 400, language, 'chooseOne', { alert: true });
          return true;
        }
        const decided = found.state === 'open'
          ? await decideByLink(deps, token, form.decision === 'accept', { ip: request.socket.remoteAddress ?? '', userAgent: request.headers['user-agent'] ?? '' })
          : null;
        if (!decided) ended(response, language, found.state === 'open' ? await findTermsByLink(deps.prisma, token) : found);
        else {
          const status = decided.status === 'ACCEPTED' ? 'ACCEPTED' : 'DECLINED';
          message(response, 200, language, status === 'ACCEPTED' ? 'accepted' : 'declined', {
            testId: 'terms-result',
            status,
            detail: decided.decidedAt ? translator(language, 'pages')('terms.recordedAt', { date: formatDateTime(language, decided.decidedAt) }) : undefined,
          });
        }
        return true;
      }
      return false;
    },
  };
}

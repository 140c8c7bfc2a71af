// The T&C page the SMS link opens: the terms version, Accept or Decline. Works in any browser,
// with no script.
import type http from 'node:http';
import { escapeHtml, page, readForm, sendHtml } from '../partners/http-helpers.js';
import { decideByLink, findTermsByLink, type TermsDeps } from '../services/terms.js';

const TITLE = 'Terms of use for electronic signatures';

export function createTermsPages(deps: Pick<TermsDeps, 'prisma' | 'bus' | 'termsVersion'>) {
  const ended = (state: string) =>
    page(
      TITLE,
      state === 'expired'
        ? '<p data-testid="terms-ended">This link has expired. Ask your service provider to send a new one.</p>'
        : '<p data-testid="terms-ended">This link is not valid (any more). A decision can be made only once.</p>',
    );

  return {
    /** Handles GET and POST /terms/<token>; false when the path is not a T&C link. */
    async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<boolean> {
      const match = /^\/terms\/([A-Za-z0-9_-]{16,100})\/?(?:\?.*)?$/.exec(request.url ?? '');
      if (!match) return false;
      const token = match[1];
      const reply = (status: number, body: string) => {
        sendHtml(response, status, body);
        return true;
      };
      if (request.method === 'GET') {
        const found = await findTermsByLink(deps.prisma, token);
        if (found.state !== 'open') return reply(410, ended(found.state));
        return reply(
          200,
          page(
            TITLE,
            `<p>You have been identified. To sign electronically with this service you need to accept its terms of use,
            version <strong data-testid="terms-version">${escapeHtml(deps.termsVersion)}</strong>.</p>
            <ul><li>Your signatures are created on your behalf when you confirm them on your phone.</li>
            <li>Your identification data is kept for the legal retention period.</li></ul>
            <p class="meta">Confirming is your declaration of will; in production it is confirmed with Mobile ID or a password and one-time code.</p>
            <form method="post">
              <button type="submit" name="decision" value="accept" data-testid="accept">Accept</button>
              <button type="submit" name="decision" value="decline" data-testid="decline">Decline</button>
            </form>`,
          ),
        );
      }
      if (request.method === 'POST') {
        const form = await readForm(request);
        if (form.decision !== 'accept' && form.decision !== 'decline') return reply(400, page(TITLE, '<p>Choose Accept or Decline.</p>'));
        const decided = await decideByLink(deps, token, form.decision === 'accept', {
          ip: request.socket.remoteAddress ?? '',
          userAgent: request.headers['user-agent'] ?? '',
        });
        if (!decided) return reply(410, ended((await findTermsByLink(deps.prisma, token)).state));
        return reply(
          200,
          page(
            TITLE,
            decided.status === 'ACCEPTED'
              ? '<p data-testid="terms-result" data-status="ACCEPTED">Thank you. You have accepted the terms of use and can now sign.</p>'
              : '<p data-testid="terms-result" data-status="DECLINED">You have declined the terms of use. You cannot sign with this service.</p>',
          ),
        );
      }
      return false;
    },
  };
}

// The texts of the SMS the service sends, in the order's language (English when it has none):
// src/i18n/locales/<language>/sms.json.
import { chooseLanguage, formatDateTime, translator } from '../i18n/index.js';

/** The SMS with the personal T&C link; the link is given whole, never shortened or re-encoded. */
export function termsSmsText(orderLanguage: string | null | undefined, link: string, validUntil: Date): string {
  const language = chooseLanguage({ orderLanguage });
  return translator(language, 'sms')('termsLink', { link, validUntil: formatDateTime(language, validUntil, 'short') });
}

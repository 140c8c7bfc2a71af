import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseLanguage, formatDateTime, formatList, LANGUAGES, NAMESPACES, supportedLanguage } from '../../src/i18n/index.js';
import { termsSmsText } from '../../src/sms/texts.js';
import { basicCredentials } from '../../src/partners/partner-credentials.js';

const LOCALES = path.resolve(import.meta.dirname, '../../src/i18n/locales');

describe('chooseLanguage', () => {
  it('speaks the order’s language when there are texts for it, whatever the browser says', () => {
    expect(chooseLanguage({ orderLanguage: 'fr', acceptLanguage: 'de-CH,de;q=0.9' })).toBe('fr');
    expect(chooseLanguage({ orderLanguage: 'IT' })).toBe('it');
    expect(chooseLanguage({ orderLanguage: 'de-CH' })).toBe('de');
  });

  it('falls back to the browser for an order language without texts (es, hr) or none', () => {
    expect(chooseLanguage({ orderLanguage: 'es', acceptLanguage: 'it-CH' })).toBe('it');
    expect(chooseLanguage({ orderLanguage: null, acceptLanguage: 'fr-CH, fr;q=0.9, en;q=0.8' })).toBe('fr');
  });

  it('negotiates Accept-Language by q-values, a region counting for its language', () => {
    expect(chooseLanguage({ acceptLanguage: 'de-CH,de;q=0.9,en;q=0.8' })).toBe('de');
    expect(chooseLanguage({ acceptLanguage: 'en;q=0.5, it;q=0.9, fr;q=0.7' })).toBe('it');
    expect(chooseLanguage({ acceptLanguage: 'es, pt;q=0.9, fr-BE;q=0.2' })).toBe('fr');
    expect(chooseLanguage({ acceptLanguage: ['es', 'de-AT;q=0.4'] })).toBe('de');
  });

  it('q=0 refuses a language; a wildcard takes English first', () => {
    expect(chooseLanguage({ acceptLanguage: 'de;q=0, *;q=0.5' })).toBe('en');
    expect(chooseLanguage({ acceptLanguage: 'en;q=0, de;q=0, fr' })).toBe('fr');
  });

  it('English without a header, with an unknown language only, or with garbage', () => {
    expect(chooseLanguage({})).toBe('en');
    expect(chooseLanguage({ acceptLanguage: '' })).toBe('en');
    expect(chooseLanguage({ acceptLanguage: 'ja, zh-CN;q=0.9' })).toBe('en');
    expect(chooseLanguage({ acceptLanguage: ';;q=x,,=' })).toBe('en');
    expect(supportedLanguage('xx')).toBeUndefined();
  });
});

describe('the locale files', () => {
  const flatten = (value: unknown, prefix = ''): Record<string, string> =>
    typeof value === 'string'
      ? { [prefix]: value }
      : Object.assign({}, ...Object.entries(value as object).map(([key, inner]) => flatten(inner, prefix ? `${prefix}.${key}` : key)));
  const read = (language: string, namespace: string) => flatten(JSON.parse(fs.readFileSync(path.join(LOCALES, language, `${namespace}.json`), 'utf8')));
  const placeholders = (text: string) => [...text.matchAll(/\{\{\s*(\w+)/g)].map((match) => match[1]).sort();

  it('are German, French, Italian and English, each with pages, sms and common', () => {
    expect([...LANGUAGES].sort()).toEqual(['de', 'en', 'fr', 'it']);
    expect(NAMESPACES).toEqual(expect.arrayContaining(['common', 'pages', 'sms']));
  });

  for (const language of ['de', 'fr', 'it']) {
    it(`${language}: every English text is translated, with the same placeholders, and none is left in English`, () => {
      for (const namespace of NAMESPACES) {
        const english = read('en', namespace);
        const translated = read(language, namespace);
        expect(Object.keys(translated).sort(), `${language}/${namespace}.json`).toEqual(Object.keys(english).sort());
        for (const [key, text] of Object.entries(english)) {
          expect(placeholders(translated[key]), `${language}/${namespace}.json ${key}`).toEqual(placeholders(text));
        }
      }
      const english = read('en', 'pages');
      const translated = read(language, 'pages');
      const untouched = Object.keys(english).filter((key) => english[key] === translated[key] && english[key].length > 20);
      expect(untouched).toEqual([]);
    });
  }
});

describe('dates and lists in the language’s form (Swiss time)', () => {
  const at = new Date('2026-11-26T11:00:00Z');
  it('long and short dates', () => {
    expect(formatDateTime('de', at)).toBe('26. November 2026 um 12:00 MEZ');
    expect(formatDateTime('fr', at)).toBe('26 novembre 2026 à 12:00 UTC+1');
    expect(formatDateTime('it', at)).toBe('26 novembre 2026 alle ore 12:00 CET');
    expect(formatDateTime('en', at)).toBe('26 November 2026 at 12:00 CET');
    expect(formatDateTime('de', new Date('2026-07-01T10:00:00Z'), 'short')).toBe('01.07.2026, 12:00 MESZ');
  });
  it('lists', () => {
    expect(formatList('de', ['A', 'B', 'C'])).toBe('A, B und C');
    expect(formatList('fr', ['A', 'B'])).toBe('A et B');
  });
});

describe('the T&C SMS', () => {
  const link = 'https://srs.example/terms/AbC_123-xyz0123456789';
  const until = new Date('2026-11-28T11:00:00Z');
  it('in the order’s language, with the link as given and the date it is valid until', () => {
    expect(termsSmsText('de', link, until)).toBe(`Ihre Identifikation für elektronische Signaturen ist abgeschlossen. Bitte lesen und akzeptieren Sie die Nutzungsbedingungen (Link gültig bis 28.11.2026, 12:00 MEZ): ${link}`);
    expect(termsSmsText('fr', link, until)).toMatch(/^Votre identification .* \(lien valable jusqu'au 28 nov\. 2026, 12:00 UTC\+1\) : https:\/\/srs\.example\/terms\/AbC_123-xyz0123456789$/);
    expect(termsSmsText('it', link, until)).toMatch(/^La sua identificazione .*fino al 28 nov 2026, 12:00 CET\): https/);
    expect(termsSmsText(null, link, until)).toMatch(/^Your identification .*valid until 28 Nov 2026, 12:00 CET\): https/);
    expect(termsSmsText('es', link, until)).toMatch(/^Your identification/);
    for (const language of ['de', 'fr', 'it', 'en']) expect(termsSmsText(language, link, until)).toContain(` ${link}`);
  });
});

describe('basicCredentials', () => {
  const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
  it('reads id and secret; the secret may hold colons', () => {
    expect(basicCredentials(basic('sim-a:s3:cret'))).toEqual({ id: 'sim-a', secret: 's3:cret' });
    expect(basicCredentials(`basic   ${Buffer.from('a:b').toString('base64')}`)).toEqual({ id: 'a', secret: 'b' });
  });
  it('refuses what is not Basic, has no id or no colon', () => {
    for (const header of [undefined, '', 'Bearer abc', basic(':secret'), basic('nocolon'), 'Basic !!!', basic('a\u0000:b')]) {
      expect(basicCredentials(header), String(header)).toBeUndefined();
    }
  });
});

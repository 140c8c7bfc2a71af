import { describe, expect, it } from 'vitest';
import { bundleFor, DASHBOARD_LANGUAGES, languageOf, textsFor } from '../../src/dashboard/i18n.js';
import { cookieValue } from '../../src/dashboard/sessions.js';

/** Every dotted key of a nested text bundle. */
function keys(node: unknown, prefix = ''): string[] {
  if (typeof node !== 'object' || node === null) return [prefix];
  return Object.entries(node).flatMap(([key, value]) => keys(value, prefix ? `${prefix}.${key}` : key));
}

describe('the dashboard texts', () => {
  it('has every English text in German, French and Italian, and nothing else', () => {
    const english = keys(bundleFor('en')).sort();
    for (const language of DASHBOARD_LANGUAGES) expect(keys(bundleFor(language)).sort(), language).toEqual(english);
  });

  it('fills placeholders', () => {
    expect(textsFor('de')('timeline.heading', { refId: 'SRS-1' })).toBe('Auftrag SRS-1');
  });
});

describe('languageOf', () => {
  it('takes the switch first, then Accept-Language by quality, then English', () => {
    expect(languageOf(new URLSearchParams('lang=it'), 'de')).toBe('it');
    expect(languageOf(new URLSearchParams('lang=xx'), 'fr-CH, fr;q=0.9')).toBe('fr');
    expect(languageOf(new URLSearchParams(), 'es;q=1, it;q=0.3, de;q=0.8')).toBe('de');
    expect(languageOf(new URLSearchParams(), 'es, pt')).toBe('en');
    expect(languageOf(new URLSearchParams(), undefined)).toBe('en');
  });
});

describe('cookieValue', () => {
  it('finds one cookie among others, and nothing in a look-alike name', () => {
    expect(cookieValue('a=1; srs_dashboard=abc; b=2', 'srs_dashboard')).toBe('abc');
    expect(cookieValue('xsrs_dashboard=abc', 'srs_dashboard')).toBeUndefined();
    expect(cookieValue(undefined, 'srs_dashboard')).toBeUndefined();
  });
});

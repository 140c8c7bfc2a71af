// The dashboard's texts in de, fr, it and en: src/i18n/locales/<lang>/dashboard.json, one
// i18next namespace, read once. The language is the `lang` query parameter (the page's switch),
// else the best of Accept-Language, else English.
import fs from 'node:fs';
import path from 'node:path';
import i18next, { type TFunction } from 'i18next';

export const DASHBOARD_LANGUAGES = ['en', 'de', 'fr', 'it'] as const;
export type DashboardLanguage = (typeof DASHBOARD_LANGUAGES)[number];
const NAMESPACE = 'dashboard';
const LOCALES = path.resolve(import.meta.dirname, '../i18n/locales');

export type DashboardTexts = Record<string, unknown>;

function readTexts(language: DashboardLanguage): DashboardTexts {
  return JSON.parse(fs.readFileSync(path.join(LOCALES, language, `${NAMESPACE}.json`), 'utf8')) as DashboardTexts;
}

const resources = Object.fromEntries(DASHBOARD_LANGUAGES.map((language) => [language, { [NAMESPACE]: readTexts(language) }]));
const instance = i18next.createInstance();
void instance.init({
  resources,
  initAsync: false,
  fallbackLng: 'en',
  supportedLngs: [...DASHBOARD_LANGUAGES],
  ns: [NAMESPACE],
  defaultNS: NAMESPACE,
  // The pages escape every text themselves.
  interpolation: { escapeValue: false },
});

/** The translate function of one language. */
export function textsFor(language: DashboardLanguage): TFunction {
  return instance.getFixedT(language, NAMESPACE);
}

/** The whole namespace of one language, for the page's script. */
export function bundleFor(language: DashboardLanguage): DashboardTexts {
  return resources[language][NAMESPACE];
}

/** The language of a request: `?lang=xx`, else Accept-Language by quality, else English. */
export function languageOf(query: URLSearchParams, acceptLanguage: string | undefined): DashboardLanguage {
  const asked = query.get('lang');
  if (asked && (DASHBOARD_LANGUAGES as readonly string[]).includes(asked)) return asked as DashboardLanguage;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag, ...parameters] = part.trim().split(';');
      const quality = Number(parameters.find((parameter) => parameter.trim().startsWith('q='))?.trim().slice(2) ?? '1');
      return { language: tag.trim().toLowerCase().split('-')[0], quality: Number.isFinite(quality) ? quality : 0 };
    })
    .filter((entry) => entry.quality > 0)
    .sort((a, b) => b.quality - a.quality);
  const match = ranked.find((entry) => (DASHBOARD_LANGUAGES as readonly string[]).includes(entry.language));
  return (match?.language as DashboardLanguage | undefined) ?? 'en';
}

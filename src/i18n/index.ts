// The texts end users read (pages, SMS) in their language. Every file
// locales/<language>/<namespace>.json is loaded at start: a language is a folder, a namespace a
// file, so adding either needs no code. English is the fallback for a missing text.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next, { type Resource, type TFunction } from 'i18next';
import Negotiator from 'negotiator';

export const FALLBACK_LANGUAGE = 'en';
/** Dates are shown in Swiss time (with the zone's short name), where the service is run. */
export const DISPLAY_TIME_ZONE = 'Europe/Zurich';

const LOCALES_DIR = fileURLToPath(new URL('./locales/', import.meta.url));

function loadResources(): Resource {
  const resources: Resource = {};
  for (const language of fs.readdirSync(LOCALES_DIR, { withFileTypes: true })) {
    if (!language.isDirectory()) continue;
    const namespaces: Resource[string] = {};
    for (const file of fs.readdirSync(path.join(LOCALES_DIR, language.name))) {
      if (file.endsWith('.json')) namespaces[file.slice(0, -'.json'.length)] = JSON.parse(fs.readFileSync(path.join(LOCALES_DIR, language.name, file), 'utf8'));
    }
    resources[language.name] = namespaces;
  }
  return resources;
}

const resources = loadResources();

/** The languages there are texts for; the fallback first, so it wins a tie (e.g. `*`). */
export const LANGUAGES: readonly string[] = [FALLBACK_LANGUAGE, ...Object.keys(resources).filter((language) => language !== FALLBACK_LANGUAGE).sort()];
/** Every namespace (file name without .json) of any language. */
export const NAMESPACES: readonly string[] = [...new Set(Object.values(resources).flatMap((namespaces) => Object.keys(namespaces)))].sort();

const i18n = i18next.createInstance();
void i18n.init({
  resources,
  lng: FALLBACK_LANGUAGE,
  fallbackLng: FALLBACK_LANGUAGE,
  supportedLngs: [...LANGUAGES],
  ns: [...NAMESPACES],
  defaultNS: false,
  initAsync: false,
  // The templates escape what they output; an SMS is not HTML.
  interpolation: { escapeValue: false },
});

/** A supported language for a code such as "de", "DE" or "de-CH"; undefined when there is none. */
export function supportedLanguage(code: string | null | undefined): string | undefined {
  const primary = code?.trim().toLowerCase().split(/[-_]/)[0];
  return primary && LANGUAGES.includes(primary) ? primary : undefined;
}

/**
 * The language to speak: the order's (when there are texts for it), else the best of the
 * browser's Accept-Language by its q-values (de-CH counts for de, q=0 refuses), else English.
 */
export function chooseLanguage(preferred: { orderLanguage?: string | null; acceptLanguage?: string | string[] }): string {
  const fromOrder = supportedLanguage(preferred.orderLanguage);
  if (fromOrder) return fromOrder;
  const header = Array.isArray(preferred.acceptLanguage) ? preferred.acceptLanguage.join(',') : preferred.acceptLanguage;
  if (!header?.trim()) return FALLBACK_LANGUAGE;
  const [best] = new Negotiator({ headers: { 'accept-language': header } }).languages([...LANGUAGES]);
  return best ?? FALLBACK_LANGUAGE;
}

/** The texts of one namespace in one language. */
export function translator(language: string, namespace: string): TFunction {
  return i18n.getFixedT(supportedLanguage(language) ?? FALLBACK_LANGUAGE, namespace);
}

/** The BCP 47 locale dates and lists are formatted in (common.json's `locale`, e.g. de-CH). */
export function localeOf(language: string): string {
  return translator(language, 'common')('locale');
}

/** A date (and time) as people of this language write it, in the service's time zone. */
export function formatDateTime(language: string, date: Date, style: 'long' | 'short' = 'long'): string {
  return new Intl.DateTimeFormat(localeOf(language), {
    dateStyle: style === 'long' ? 'long' : 'medium',
    timeStyle: 'short',
    timeZone: DISPLAY_TIME_ZONE,
  }).format(date) + ` ${timeZoneName(language, date)}`;
}

function timeZoneName(language: string, date: Date): string {
  return new Intl.DateTimeFormat(localeOf(language), { timeZone: DISPLAY_TIME_ZONE, timeZoneName: 'short' }).formatToParts(date).find((part) => part.type === 'timeZoneName')?.value ?? '';
}

/** "a, b and c" in this language. */
export function formatList(language: string, items: string[]): string {
  return new Intl.ListFormat(localeOf(language), { style: 'long', type: 'conjunction' }).format(items);
}

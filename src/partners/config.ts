// Which partner serves each issuer: the partners file (PARTNERS_FILE) and SIMULATORS, read and
// checked once at start. Every problem of the file is named, with its place in the file.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { METHOD_CATALOGUE } from '../domain/catalogue.js';

/** The longest a partner may take to open an order: a repeated placeOrder waits 15 s for it (services/orders.ts). */
export const MAX_PARTNER_TIMEOUT_MS = 10_000;
export const TEST_ISSUER = 'TEST';

/** The issuers a partners file may name: every issuer of the catalogue but the built-in TEST. */
export const PARTNER_ISSUERS: readonly string[] = [...new Set(METHOD_CATALOGUE.map((method) => method.issuer))].filter((issuer) => issuer !== TEST_ISSUER);

export interface PartnerTlsFiles {
  /** PEM client certificate and key presented to the partner (both or neither). */
  cert?: string;
  key?: string;
  /** PEM certificate authorities trusted for the partner's server, instead of Node's defaults. */
  ca?: string;
}

export interface PartnerSettings {
  issuer: string;
  /** Base of the partner's API, without a trailing slash: SRS POSTs to `{apiUrl}/orders`. */
  apiUrl: string;
  timeoutMs: number;
  /** Sent with every call to the partner (e.g. an API key of the partner's own). */
  headers: Record<string, string>;
  tls?: PartnerTlsFiles;
}

export interface PartnersConfig {
  /** The partners of the file, by issuer (upper case). */
  partners: ReadonlyMap<string, PartnerSettings>;
  /** Whether issuers without a partner are served by their built-in simulator. */
  simulators: boolean;
  /** The file the partners came from, for the start log. */
  file?: string;
}

export const partnerEnvironment = {
  PARTNERS_FILE: z.string().min(1).optional(),
  SIMULATORS: z.enum(['0', '1', 'true', 'false']).transform((value) => value === '1' || value === 'true').default(true),
};

// Headers SRS sets itself: the order token is the bearer, and the body is SRS's JSON.
const RESERVED_HEADERS = ['authorization', 'content-type', 'content-length', 'host', 'connection', 'transfer-encoding'];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const partnerSchema = z.strictObject({
  apiUrl: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .refine((value) => {
      // Runs on a value the URL check refused too.
      const url = URL.canParse(value) ? new URL(value) : undefined;
      return !url || (!url.search && !url.hash && !url.username && !url.password);
    }, 'must have no query, fragment or credentials (SRS appends /orders to it)'),
  timeoutMs: z.number().int().min(100).max(MAX_PARTNER_TIMEOUT_MS, `must be at most ${MAX_PARTNER_TIMEOUT_MS} (a repeated placeOrder waits 15 s for the first)`).default(MAX_PARTNER_TIMEOUT_MS),
  headers: z
    .record(z.string(), z.string())
    .superRefine((headers, ctx) => {
      for (const [name, value] of Object.entries(headers)) {
        const message = !HEADER_NAME.test(name)
          ? 'is not a valid header name'
          : RESERVED_HEADERS.includes(name.toLowerCase())
            ? 'is set by SRS itself'
            : /[\r\n]/.test(value)
              ? 'must be one line'
              : undefined;
        if (message) ctx.addIssue({ code: 'custom', path: [name], message });
      }
    })
    .default({}),
  tls: z
    .strictObject({ certFile: z.string().min(1).optional(), keyFile: z.string().min(1).optional(), caFile: z.string().min(1).optional() })
    .refine((tls) => Boolean(tls.certFile) === Boolean(tls.keyFile), 'certFile and keyFile go together')
    .optional(),
});

const fileSchema = z.strictObject({ partners: z.record(z.string(), partnerSchema) });

/**
 * The partner settings from the environment; pushes every problem onto `problems`, each naming
 * PARTNERS_FILE and the place in the file. Relative paths in the file are relative to the file.
 */
export function loadPartnersConfig(values: { PARTNERS_FILE?: string; SIMULATORS: boolean }, problems: string[]): PartnersConfig {
  if (!values.PARTNERS_FILE) return { partners: new Map(), simulators: values.SIMULATORS };
  const file = values.PARTNERS_FILE;
  const config: PartnersConfig = { partners: new Map(), simulators: values.SIMULATORS, file };
  const problem = (message: string) => problems.push(`PARTNERS_FILE (${file}): ${message}`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    problem(`cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return config;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    problem(`is not JSON (${(error as Error).message})`);
    return config;
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problem(`${issue.path.join('.') || '(the file)'}: ${issue.message}`);
  }
  // Issuer names are checked even when a partner's settings are not, so every problem shows.
  const entries = parsed.success ? Object.entries(parsed.data.partners) : Object.keys(isObject(json) && isObject(json.partners) ? json.partners : {}).map((key) => [key, undefined] as const);
  const partners = new Map<string, PartnerSettings>();
  for (const [key, settings] of entries) {
    const issuer = key.trim().toUpperCase();
    if (issuer === TEST_ISSUER) {
      problem(`partners.${key}: TEST is the built-in test issuer (SRS_TEST_MODE); it has no partner`);
      continue;
    }
    if (!PARTNER_ISSUERS.includes(issuer)) {
      problem(`partners.${key}: unknown issuer (known: ${PARTNER_ISSUERS.join(', ')})`);
      continue;
    }
    if (partners.has(issuer)) {
      problem(`partners.${key}: ${issuer} is named twice`);
      continue;
    }
    if (!settings) continue;
    const tls = settings.tls && readTlsFiles(settings.tls, path.dirname(path.resolve(file)), (message) => problem(`partners.${key}.tls.${message}`));
    partners.set(issuer, {
      issuer,
      apiUrl: settings.apiUrl.replace(/\/+$/, ''),
      timeoutMs: settings.timeoutMs,
      headers: settings.headers,
      ...(tls && { tls }),
    });
  }
  return { ...config, partners };
}

function readTlsFiles(tls: { certFile?: string; keyFile?: string; caFile?: string }, baseDir: string, problem: (message: string) => void): PartnerTlsFiles {
  const read = (field: string, file: string | undefined) => {
    if (!file) return undefined;
    const resolved = path.resolve(baseDir, file);
    try {
      const text = fs.readFileSync(resolved, 'utf8');
      if (!text.includes('-----BEGIN ')) problem(`${field}: ${resolved} is not a PEM file`);
      return text;
    } catch (error) {
      problem(`${field}: ${resolved} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      return undefined;
    }
  };
  const files = { cert: read('certFile', tls.certFile), key: read('keyFile', tls.keyFile), ca: read('caFile', tls.caFile) };
  return Object.fromEntries(Object.entries(files).filter(([, value]) => value !== undefined));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

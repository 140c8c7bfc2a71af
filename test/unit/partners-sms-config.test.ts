// PARTNERS_FILE, SIMULATORS and the SMS gateway's variables: read at start, every problem named.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../../src/config.js';
import { issuerRoutes, servedIssuers } from '../../src/partners/registry.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srs-partners-config-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let files = 0;
function partnersFile(content: unknown): string {
  const file = path.join(dir, `partners-${++files}.json`);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('PARTNERS_FILE', () => {
  it('reads each partner with its defaults, issuers in any case, relative certificate paths next to the file', () => {
    fs.writeFileSync(path.join(dir, 'client.pem'), '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
    fs.writeFileSync(path.join(dir, 'client.key'), '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n');
    const file = partnersFile({
      partners: {
        klarna: { apiUrl: 'https://klarna.example/srs/', timeoutMs: 2500, headers: { 'X-Api-Key': 'k' }, tls: { certFile: 'client.pem', keyFile: 'client.key' } },
        NECT: { apiUrl: 'http://127.0.0.1:9000' },
      },
    });
    const config = loadConfig({ PARTNERS_FILE: file });
    expect(config.partners.file).toBe(file);
    expect(config.partners.simulators).toBe(true);
    expect(config.partners.partners.get('KLARNA')).toEqual({
      issuer: 'KLARNA',
      apiUrl: 'https://klarna.example/srs',
      timeoutMs: 2500,
      headers: { 'X-Api-Key': 'k' },
      tls: { cert: expect.stringContaining('BEGIN CERTIFICATE'), key: expect.stringContaining('BEGIN PRIVATE KEY') },
    });
    expect(config.partners.partners.get('NECT')).toEqual({ issuer: 'NECT', apiUrl: 'http://127.0.0.1:9000', timeoutMs: 10_000, headers: {} });
  });

  it('names every problem of the file at once, with its place', () => {
    const file = partnersFile({
      partners: {
        ACME: { apiUrl: 'https://acme.example' },
        TEST: { apiUrl: 'https://test.example' },
        KLARNA: { apiUrl: 'ftp://klarna.example', timeoutMs: 60_000, headers: { Authorization: 'Bearer x' }, colour: 'blue' },
        NECT: { apiUrl: 'https://nect.example?x=1', tls: { certFile: 'missing.pem', keyFile: 'missing.key' } },
        'INTRUM-VIDEO': { apiUrl: 'https://intrum.example', tls: { certFile: 'only-cert.pem' } },
        'INTRUM-AUTOIDENT': { apiUrl: 'not a url' },
      },
    });
    const found = problems({ PARTNERS_FILE: file });
    const expected = [
      /partners\.ACME: unknown issuer \(known: IDENTITY\.TM, KLARNA/,
      /partners\.TEST: TEST is the built-in test issuer/,
      /partners\.KLARNA\.apiUrl: must be an http:\/\/ or https:\/\/ URL/,
      /partners\.KLARNA\.timeoutMs: must be at most 10000/,
      /partners\.KLARNA\.headers\.Authorization: is set by SRS itself/,
      /partners\.KLARNA: Unrecognized key: "colour"/,
      /partners\.NECT\.apiUrl: must have no query/,
      /partners\.INTRUM-VIDEO\.tls: certFile and keyFile go together/,
      /partners\.INTRUM-AUTOIDENT\.apiUrl: must be an http:\/\/ or https:\/\/ URL/,
    ];
    for (const pattern of expected) expect(found.some((problem) => pattern.test(problem)), `${pattern} in ${found.join('\n')}`).toBe(true);
    expect(found.every((problem) => problem.startsWith(`PARTNERS_FILE (${file}): `))).toBe(true);
  });

  it('names a certificate file that cannot be read', () => {
    const file = partnersFile({ partners: { NECT: { apiUrl: 'https://nect.example', tls: { certFile: 'missing.pem', keyFile: 'missing.key', caFile: 'ca.pem' } } } });
    fs.writeFileSync(path.join(dir, 'ca.pem'), 'not a certificate');
    const found = problems({ PARTNERS_FILE: file });
    expect(found).toEqual([
      `PARTNERS_FILE (${file}): partners.NECT.tls.certFile: ${path.join(dir, 'missing.pem')} cannot be read (ENOENT)`,
      `PARTNERS_FILE (${file}): partners.NECT.tls.keyFile: ${path.join(dir, 'missing.key')} cannot be read (ENOENT)`,
      `PARTNERS_FILE (${file}): partners.NECT.tls.caFile: ${path.join(dir, 'ca.pem')} is not a PEM file`,
    ]);
  });

  it('names a missing file, a file that is not JSON, and one of the wrong shape', () => {
    expect(problems({ PARTNERS_FILE: path.join(dir, 'nowhere.json') })).toEqual([`PARTNERS_FILE (${path.join(dir, 'nowhere.json')}): cannot be read (ENOENT)`]);
    expect(problems({ PARTNERS_FILE: partnersFile('{"partners": ') })[0]).toMatch(/is not JSON/);
    expect(problems({ PARTNERS_FILE: partnersFile({ KLARNA: { apiUrl: 'https://k.example' } }) })).toEqual(
      expect.arrayContaining([expect.stringMatching(/partners: Invalid input/), expect.stringMatching(/Unrecognized key: "KLARNA"/)]),
    );
  });
});

describe('where each issuer goes', () => {
  const routesOf = (config: Config) => Object.fromEntries(issuerRoutes(config).map((route) => [route.issuer, route.via]));

  it('a partner for configured issuers, simulators for the rest, TEST only in test mode', () => {
    const file = partnersFile({ partners: { KLARNA: { apiUrl: 'https://klarna.example/srs' } } });
    expect(routesOf(loadConfig({ PARTNERS_FILE: file }))).toEqual({
      'IDENTITY.TM': 'simulator',
      KLARNA: 'partner',
      'IDENTITY-TM-EID': 'simulator',
      NECT: 'simulator',
      'INTRUM-VIDEO': 'simulator',
      'INTRUM-AUTOIDENT': 'simulator',
      'SWISSCOM-RA': 'simulator',
      TEST: 'none',
    });
    const served = servedIssuers(loadConfig({ PARTNERS_FILE: file, SIMULATORS: '0', SRS_TEST_MODE: '1' }));
    expect(['KLARNA', 'klarna', 'TEST', 'NECT'].map(served)).toEqual([true, true, true, false]);
  });

  it('refuses a SIMULATORS value that is not a flag', () => {
    expect(problems({ SIMULATORS: 'maybe' })[0]).toMatch(/^SIMULATORS: /);
  });
});

describe('SMS_GATEWAY', () => {
  it('log by default; http and twilio with their settings', () => {
    expect(loadConfig({}).sms).toEqual({ gateway: 'log' });
    expect(loadConfig({ SMS_GATEWAY: 'http', SMS_HTTP_URL: 'https://sms.example/send', SMS_HTTP_TOKEN: 't0k' }).sms).toEqual({
      gateway: 'http',
      url: 'https://sms.example/send',
      token: 't0k',
    });
    const sid = `AC${'a'.repeat(32)}`;
    expect(loadConfig({ SMS_GATEWAY: 'twilio', TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: 'secret', TWILIO_FROM: '+41790000000' }).sms).toEqual({
      gateway: 'twilio',
      apiUrl: 'https://api.twilio.com',
      accountSid: sid,
      authToken: 'secret',
      from: '+41790000000',
    });
  });

  it('names every variable the chosen gateway lacks', () => {
    expect(problems({ SMS_GATEWAY: 'http' })).toEqual(['SMS_HTTP_URL: required with SMS_GATEWAY=http', 'SMS_HTTP_TOKEN: required with SMS_GATEWAY=http']);
    expect(problems({ SMS_GATEWAY: 'twilio', TWILIO_FROM: '+41790000000' })).toEqual([
      'TWILIO_ACCOUNT_SID: required with SMS_GATEWAY=twilio',
      'TWILIO_AUTH_TOKEN: required with SMS_GATEWAY=twilio',
    ]);
    expect(problems({ SMS_GATEWAY: 'pigeon' })[0]).toMatch(/^SMS_GATEWAY: /);
    expect(problems({ SMS_GATEWAY: 'twilio', TWILIO_ACCOUNT_SID: 'ACnope', TWILIO_AUTH_TOKEN: 'x', TWILIO_FROM: 'SRS' })[0]).toMatch(/^TWILIO_ACCOUNT_SID: must be a Twilio account SID/);
  });
});

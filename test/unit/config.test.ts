import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

const KEY_A = Buffer.alloc(32, 1);
const KEY_B = Buffer.alloc(32, 2);
const SERVER_KEYS = { DATA_ENCRYPTION_KEYS: `k1:${KEY_A.toString('base64')}`, DATA_HASH_KEY: KEY_B.toString('base64') };

describe('loadConfig', () => {
  it('needs the data keys with DATABASE_URL and checks their form', () => {
    expect(configError({ DATABASE_URL: 'postgres://root@127.0.0.1/test' }).message).toContain('DATA_ENCRYPTION_KEYS');
    const bad = configError({ DATA_ENCRYPTION_KEYS: 'k1:short', DATA_HASH_KEY: 'c2hvcnQ=' });
    expect(bad.problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['DATA_ENCRYPTION_KEYS', 'DATA_HASH_KEY']);
  });

  it('has defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toStrictEqual({
      port: 4000,
      host: '0.0.0.0',
      publicUrl: 'http://127.0.0.1:4000',
      databaseUrl: undefined,
      dataDir: '.data',
      testMode: false,
      accessTokenTtlSeconds: 3600,
      internalUrl: 'http://127.0.0.1:4000',
      subscriptionTokenCheckSeconds: 10,
      timeoutSweepSeconds: 30,
      orderRecoveryGraceSeconds: 30,
      dataKeys: undefined,
      termsVersion: '2026-11',
      termsLinkTtlHours: 72,
      smsOutboxSweepSeconds: 5,
      redisUrl: undefined,
      redisChannel: 'srs:order-events',
      eventNotices: 'process',
      eventPollSeconds: 1,
      logLevel: 'info',
      shutdownGraceSeconds: 10,
      metricsToken: undefined,
      tokenCacheSeconds: 5,
      webSocketKeepAliveSeconds: 25,
      workers: 1,
      partners: { partners: new Map(), simulators: true },
      sms: { gateway: 'log' },
      webhooks: {
        retryScheduleSeconds: [0, 5, 300, 1800, 7200, 18000, 36000, 36000],
        allowPrivateDestinations: false,
        timeoutSeconds: 15,
        secretOverlapSeconds: 86_400,
        pollSeconds: 5,
      },
      operationLimits: { maxDepth: 10, maxAliases: 15, maxCost: 5000, maxTokens: 2000, maxDirectives: 50, maxRows: 1000 },
      rateLimit: { perSecond: 200, store: 'memory' },
    });
  });

  it('reads the operation limits and the rate limit, and refuses nonsense', () => {
    const config = loadConfig({ GRAPHQL_MAX_DEPTH: '7', GRAPHQL_MAX_ROWS: '50', RATE_LIMIT_PER_CLIENT: '0' });
    expect(config.operationLimits).toMatchObject({ maxDepth: 7, maxRows: 50 });
    expect(config.rateLimit).toEqual({ perSecond: 0, store: 'memory' });
    expect(loadConfig({ DATABASE_URL: 'postgres://root@127.0.0.1/test', ...SERVER_KEYS }).rateLimit.store).toBe('postgres');
    expect(() => loadConfig({ GRAPHQL_MAX_DEPTH: '0' })).toThrow(/GRAPHQL_MAX_DEPTH/);
    expect(() => loadConfig({ RATE_LIMIT_PER_CLIENT: 'many' })).toThrow(/RATE_LIMIT_PER_CLIENT/);
  });

  it('derives the public URL from PORT when PUBLIC_URL is unset', () => {
    expect(loadConfig({ PORT: '5123' })).toMatchObject({ port: 5123, publicUrl: 'http://127.0.0.1:5123' });
  });

  it('removes trailing slashes from PUBLIC_URL', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://srs.example.com/' }).publicUrl).toBe('https://srs.example.com');
    expect(loadConfig({ PUBLIC_URL: 'https://srs.example.com/base//' }).publicUrl).toBe('https://srs.example.com/base');
    expect(loadConfig({ PUBLIC_URL: 'http://127.0.0.1:8080' }).publicUrl).toBe('http://127.0.0.1:8080');
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        PORT: '8080',
        HOST: '127.0.0.1',
        PUBLIC_URL: 'https://srs.example.com',
        DATABASE_URL: 'postgresql://user@db.example.com:5433/srs',
        DATA_DIR: '/var/lib/srs',
        SRS_TEST_MODE: 'true',
        ACCESS_TOKEN_TTL_SECONDS: '600',
        INTERNAL_URL: 'http://10.0.0.5:8080/',
        SUBSCRIPTION_TOKEN_CHECK_SECONDS: '2.5',
        TIMEOUT_SWEEP_SECONDS: '5',
        ORDER_RECOVERY_GRACE_SECONDS: '12',
        DATA_ENCRYPTION_KEYS: `k2:${KEY_B.toString('base64')},k1:${KEY_A.toString('base64')}`,
        DATA_HASH_KEY: KEY_A.toString('base64'),
        TERMS_VERSION: 'v7',
        TERMS_LINK_TTL_HOURS: '24',
        SMS_OUTBOX_SWEEP_SECONDS: '1',
        REDIS_URL: 'redis://:secret@redis.internal:6380/2',
        REDIS_CHANNEL: 'srs-prod:events',
        EVENT_POLL_SECONDS: '0.5',
        LOG_LEVEL: 'debug',
        SHUTDOWN_GRACE_SECONDS: '25',
        METRICS_TOKEN: 'a-long-scrape-token-123',
        TOKEN_CACHE_SECONDS: '0',
        WS_KEEPALIVE_SECONDS: '0',
        WORKERS: '1',
        WEBHOOK_RETRY_SCHEDULE: '0,1,2.5',
        WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: '1',
        WEBHOOK_TIMEOUT_SECONDS: '3',
        WEBHOOK_SECRET_OVERLAP_SECONDS: '60',
        WEBHOOK_POLL_SECONDS: '0.5',
      }),
    ).toStrictEqual({
      port: 8080,
      host: '127.0.0.1',
      publicUrl: 'https://srs.example.com',
      databaseUrl: 'postgresql://user@db.example.com:5433/srs',
      dataDir: '/var/lib/srs',
      testMode: true,
      accessTokenTtlSeconds: 600,
      internalUrl: 'http://10.0.0.5:8080',
      subscriptionTokenCheckSeconds: 2.5,
      timeoutSweepSeconds: 5,
      orderRecoveryGraceSeconds: 12,
      dataKeys: {
        encryptionKeys: [
          { id: 'k2', key: KEY_B },
          { id: 'k1', key: KEY_A },
        ],
        hashKey: KEY_A,
      },
      termsVersion: 'v7',
      termsLinkTtlHours: 24,
      smsOutboxSweepSeconds: 1,
      redisUrl: 'redis://:secret@redis.internal:6380/2',
      redisChannel: 'srs-prod:events',
      eventNotices: 'redis',
      eventPollSeconds: 0.5,
      logLevel: 'debug',
      shutdownGraceSeconds: 25,
      metricsToken: 'a-long-scrape-token-123',
      tokenCacheSeconds: 0,
      webSocketKeepAliveSeconds: 0,
      workers: 1,
      partners: { partners: new Map(), simulators: true },
      sms: { gateway: 'log' },
      webhooks: { retryScheduleSeconds: [0, 1, 2.5], allowPrivateDestinations: true, timeoutSeconds: 3, secretOverlapSeconds: 60, pollSeconds: 0.5 },
      operationLimits: { maxDepth: 10, maxAliases: 15, maxCost: 5000, maxTokens: 2000, maxDirectives: 50, maxRows: 1000 },
      rateLimit: { perSecond: 200, store: 'redis' },
    });
  });

  it('accepts postgres:// as well as postgresql://', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://root@127.0.0.1:5432/test', ...SERVER_KEYS }).databaseUrl).toBe('postgres://root@127.0.0.1:5432/test');
  });

  it('reads SRS_TEST_MODE 1 and true as on, 0 and false as off', () => {
    expect(loadConfig({ SRS_TEST_MODE: '1' }).testMode).toBe(true);
    expect(loadConfig({ SRS_TEST_MODE: 'true' }).testMode).toBe(true);
    expect(loadConfig({ SRS_TEST_MODE: '0' }).testMode).toBe(false);
    expect(loadConfig({ SRS_TEST_MODE: 'false' }).testMode).toBe(false);
  });

  it('takes empty strings as unset', () => {
    expect(
      loadConfig({ PORT: '', HOST: '', PUBLIC_URL: '', DATABASE_URL: '', DATA_DIR: '', SRS_TEST_MODE: '', ACCESS_TOKEN_TTL_SECONDS: '' }),
    ).toStrictEqual(loadConfig({}));
  });

  it('ignores unrelated variables', () => {
    expect(loadConfig({ PATH: '/usr/bin', NODE_ENV: 'test' })).toStrictEqual(loadConfig({}));
  });

  it('reports every bad variable in one ConfigError, each by name', () => {
    const error = configError({ PORT: 'abc', DATABASE_URL: 'mysql://x', SRS_TEST_MODE: 'yes' });
    expect(error.problems).toHaveLength(3);
    expect(error.problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'PORT', 'SRS_TEST_MODE']);
    expect(error.message).toMatch(/^Invalid configuration:/);
    for (const name of ['PORT', 'DATABASE_URL', 'SRS_TEST_MODE']) expect(error.message).toContain(name);
    // Each problem shows the value it got.
    expect(error.message).toContain('"abc"');
    expect(error.message).toContain('"mysql://x"');
    expect(error.message).toContain('"yes"');
    expect(error.problems.find((problem) => problem.startsWith('DATABASE_URL'))).toContain('postgres');
  });

  it('never shows a secret or a password in its messages', () => {
    const error = configError({ METRICS_TOKEN: 'short', REDIS_URL: 'http://user:hunter2@redis:6379', DATABASE_URL: 'mysql://me:s3cret@db/x' });
    expect(error.problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'METRICS_TOKEN', 'REDIS_URL']);
    expect(error.message).not.toMatch(/short|hunter2|s3cret/);
    expect(error.message).toContain('"http://user:***@redis:6379"');
    expect(error.message).toContain('METRICS_TOKEN: must be at least 16 characters (got a value of 5 characters)');
  });

  it('rejects out-of-range and non-integer numbers', () => {
    expect(configError({ PORT: '70000' }).problems.map((problem) => problem.split(':')[0])).toEqual(['PORT']);
    expect(configError({ PORT: '1.5' }).problems.map((problem) => problem.split(':')[0])).toEqual(['PORT']);
    expect(configError({ ACCESS_TOKEN_TTL_SECONDS: '0' }).problems.map((problem) => problem.split(':')[0])).toEqual(['ACCESS_TOKEN_TTL_SECONDS']);
  });

  it('sends event notices through Redis when it is there, else through PostgreSQL for WORKERS, else nowhere', () => {
    const server = { DATABASE_URL: 'postgres://root@127.0.0.1/test', PORT: '4000', ...SERVER_KEYS };
    expect(loadConfig(server).eventNotices).toBe('process');
    expect(loadConfig({ ...server, WORKERS: '2' }).eventNotices).toBe('postgres');
    expect(loadConfig({ ...server, WORKERS: '2', REDIS_URL: 'redis://127.0.0.1:6379' }).eventNotices).toBe('redis');
    expect(loadConfig({ ...server, EVENT_NOTICES: 'postgres' }).eventNotices).toBe('postgres');
    expect(loadConfig({}).eventNotices).toBe('process');
    expect(configError({ EVENT_NOTICES: 'postgres' }).problems).toEqual([expect.stringMatching(/^EVENT_NOTICES: postgres needs DATABASE_URL/)]);
    expect(configError({ EVENT_NOTICES: 'redis' }).problems).toEqual([expect.stringMatching(/^EVENT_NOTICES: redis needs REDIS_URL/)]);
    expect(configError({ EVENT_NOTICES: 'kafka' }).problems.map((problem) => problem.split(':')[0])).toEqual(['EVENT_NOTICES']);
  });

  it('takes WORKERS above 1 only with what processes can share', () => {
    expect(loadConfig({ WORKERS: '3', PORT: '4000', DATABASE_URL: 'postgres://root@127.0.0.1/test', ...SERVER_KEYS }).workers).toBe(3);
    const error = configError({ WORKERS: '2', PORT: '0' });
    expect(error.problems).toEqual([
      expect.stringMatching(/^WORKERS: more than 1 needs DATABASE_URL/),
      expect.stringMatching(/^WORKERS: more than 1 needs a fixed PORT/),
    ]);
    expect(configError({ WORKERS: '0' }).problems.map((problem) => problem.split(':')[0])).toEqual(['WORKERS']);
  });

  it('rejects a PUBLIC_URL that is not http(s)', () => {
    expect(configError({ PUBLIC_URL: 'ftp://srs.example.com' }).problems.map((problem) => problem.split(':')[0])).toEqual(['PUBLIC_URL']);
    expect(configError({ PUBLIC_URL: 'not a url' }).problems.map((problem) => problem.split(':')[0])).toEqual(['PUBLIC_URL']);
  });
});

import { z } from 'zod';
import { parseEncryptionKeys, type DataKeys } from './crypto/data-protection.js';
import { loadPartnersConfig, partnerEnvironment, type PartnersConfig } from './partners/config.js';
import { loadSmsConfig, SMS_SECRET_VARIABLES, smsEnvironment, type SmsConfig } from './sms/gateways.js';
import { webhookEnvironment, webhookConfig, type WebhookConfig } from './webhooks/config.js';
import type { OperationLimits } from './graphql/operation-limits.js';

const booleanFlag = z.enum(['0', '1', 'true', 'false']).transform((value) => value === '1' || value === 'true');

const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  SRS_TEST_MODE: booleanFlag.default(false),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(3600),
  INTERNAL_URL: z.url({ protocol: /^https?$/ }).optional(),
  SUBSCRIPTION_TOKEN_CHECK_SECONDS: z.coerce.number().min(0.1).max(3600).default(10),
  TIMEOUT_SWEEP_SECONDS: z.coerce.number().min(0.1).max(3600).default(30),
  ORDER_RECOVERY_GRACE_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  DATA_ENCRYPTION_KEYS: z.string().optional(),
  DATA_HASH_KEY: z.string().optional(),
  TERMS_VERSION: z.string().min(1).max(50).default('2026-11'),
  TERMS_LINK_TTL_HOURS: z.coerce.number().min(0.01).max(24 * 90).default(72),
  SMS_OUTBOX_SWEEP_SECONDS: z.coerce.number().min(0.1).max(3600).default(5),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  REDIS_CHANNEL: z.string().min(1).max(200).default('srs:order-events'),
  EVENT_NOTICES: z.enum(['process', 'postgres', 'redis']).optional(),
  EVENT_POLL_SECONDS: z.coerce.number().min(0.05).max(3600).default(1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(600).default(10),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TOKEN_CACHE_SECONDS: z.coerce.number().min(0).max(300).default(5),
  WS_KEEPALIVE_SECONDS: z.coerce.number().min(0).max(3600).default(25),
  WORKERS: z.coerce.number().int().min(1).max(256).default(1),
  ...partnerEnvironment,
  ...smsEnvironment,
  ...webhookEnvironment,
  // Limits of one GraphQL operation and of a client's request rate (README: Limits and security).
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).max(1000).default(10),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).max(10_000).default(15),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(1).max(100_000_000).default(5000),
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(1).max(1_000_000).default(2000),
  GRAPHQL_MAX_DIRECTIVES: z.coerce.number().int().min(0).max(10_000).default(50),
  GRAPHQL_MAX_ROWS: z.coerce.number().int().min(1).max(100_000_000).default(1000),
  RATE_LIMIT_PER_CLIENT: z.coerce.number().int().min(0).max(1_000_000).default(200),
});

export interface Config {
  port: number;
  host: string;
  /** Base of every link the service hands out and of the OAuth2 issuer; no trailing slash. */
  publicUrl: string;
  /** Unset: embedded PGlite in dataDir. */
  databaseUrl?: string;
  dataDir: string;
  testMode: boolean;
  accessTokenTtlSeconds: number;
  /** Where the service and its built-in partner simulators reach each other's HTTP APIs. */
  internalUrl: string;
  /** How often a running subscription re-checks that its token was not revoked. */
  subscriptionTokenCheckSeconds: number;
  /** How often the timeout job looks for orders past their method's limits. */
  timeoutSweepSeconds: number;
  /** How long an order may stay CREATED without a target URL before the recovery job opens it again (its opener died). */
  orderRecoveryGraceSeconds: number;
  /** Keys for personal data at rest; unset in embedded mode: generated into the data folder. */
  dataKeys?: DataKeys;
  /** The version of the T&C users accept. */
  termsVersion: string;
  termsLinkTtlHours: number;
  /** How often the SMS outbox retries what is due (new messages go out at once). */
  smsOutboxSweepSeconds: number;
  /** Set: order event notices go through Redis pub/sub, so every process hears every change. */
  redisUrl?: string;
  /** The Redis pub/sub channel; processes of one service share it, other services must not. */
  redisChannel: string;
  /**
   * How a process hears of events (and revocations) committed by the others: Redis pub/sub,
   * PostgreSQL's LISTEN/NOTIFY, or not at all ('process': only by polling the event table).
   */
  eventNotices: 'process' | 'postgres' | 'redis';
  /**
   * How often each process looks for stored events it has not heard of: the catch-up for a
   * lost broker message, and without Redis the only way one process learns of another's events.
   */
  eventPollSeconds: number;
  /** 'memory': oidc-provider's in-memory adapter (one process, lost on restart); for comparison in benchmarks. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How long shutdown waits for requests in flight before closing their connections. */
  shutdownGraceSeconds: number;
  /** Set: /metrics answers only requests bearing this token. */
  metricsToken?: string;
  /** How long a successful access token check is kept in memory (0: never). */
  tokenCacheSeconds: number;
  /** How often a WebSocket is pinged; one that has not answered by the next ping is closed (0: never). */
  webSocketKeepAliveSeconds: number;
  /** Server processes on this machine sharing the port (Node's cluster module); 1: this process serves. */
  workers: number;
  /** PARTNERS_FILE and SIMULATORS: which partner serves each issuer (see partners/registry.ts). */
  partners: PartnersConfig;
  /** SMS_GATEWAY and its provider's settings (see sms/gateways.ts). */
  sms: SmsConfig;
  webhooks: WebhookConfig;
  /** What one GraphQL operation may ask for. */
  operationLimits: OperationLimits;
  /** Requests per second per client (0: none), counted in Redis, PostgreSQL or (embedded) memory. */
  rateLimit: { perSecond: number; store: 'memory' | 'postgres' | 'redis' };
}

/** Thrown with every problem of the environment at once, each naming its variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

const SECRET_VARIABLES = new Set(['METRICS_TOKEN', 'DATA_ENCRYPTION_KEYS', 'DATA_HASH_KEY', ...SMS_SECRET_VARIABLES]);

/** A bad value as an error message may show it: secrets hidden, passwords in URLs masked. */
function shownValue(name: string, value: string | undefined): string {
  if (value === undefined) return 'nothing';
  if (SECRET_VARIABLES.has(name)) return `a value of ${value.length} characters`;
  return JSON.stringify(value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@'));
}

/** Reads and checks the configuration; the only place that looks at process.env. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as in most shells' `VAR= command`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message} (got ${shownValue(String(issue.path[0]), present[String(issue.path[0])])})`),
    );
  }
  const values = parsed.data;
  const problems: string[] = [];
  let dataKeys: DataKeys | undefined;
  if (values.DATA_ENCRYPTION_KEYS || values.DATA_HASH_KEY) {
    const encryption = values.DATA_ENCRYPTION_KEYS ? parseEncryptionKeys(values.DATA_ENCRYPTION_KEYS) : { problem: 'is required with DATA_HASH_KEY' };
    const hashKey = values.DATA_HASH_KEY ? Buffer.from(values.DATA_HASH_KEY, 'base64') : undefined;
    if (encryption.problem) problems.push(`DATA_ENCRYPTION_KEYS: ${encryption.problem}`);
    if (!hashKey || hashKey.length !== 32) problems.push('DATA_HASH_KEY: must be the base64 of 32 random bytes (e.g. $(openssl rand -base64 32)), and is required with DATA_ENCRYPTION_KEYS');
    if (encryption.keys && hashKey?.length === 32) dataKeys = { encryptionKeys: encryption.keys, hashKey };
  } else if (values.DATABASE_URL) {
    problems.push('DATA_ENCRYPTION_KEYS and DATA_HASH_KEY: required with DATABASE_URL (personal data is encrypted at rest; only the embedded mode generates its own keys)');
  }
  const eventNotices = values.EVENT_NOTICES ?? (values.REDIS_URL ? 'redis' : values.WORKERS > 1 && values.DATABASE_URL ? 'postgres' : 'process');
  if (eventNotices === 'redis' && !values.REDIS_URL) problems.push('EVENT_NOTICES: redis needs REDIS_URL');
  if (eventNotices === 'postgres' && !values.DATABASE_URL) problems.push('EVENT_NOTICES: postgres needs DATABASE_URL (the embedded database serves one process)');
  if (values.WORKERS > 1) {
    // Every worker is a process of its own: they can only share state kept in PostgreSQL.
    if (!values.DATABASE_URL) problems.push('WORKERS: more than 1 needs DATABASE_URL (the embedded database belongs to one process)');
    if (values.PORT === 0) problems.push('WORKERS: more than 1 needs a fixed PORT (the built-in partners call the service back on it)');
  }
  const partners = loadPartnersConfig(values, problems);
  const sms = loadSmsConfig(values, problems);
  if (problems.length) throw new ConfigError(problems);
  return {
    port: values.PORT,
    host: values.HOST,
    publicUrl: (values.PUBLIC_URL ?? `http://127.0.0.1:${values.PORT}`).replace(/\/+$/, ''),
    databaseUrl: values.DATABASE_URL,
    dataDir: values.DATA_DIR,
    testMode: values.SRS_TEST_MODE,
    accessTokenTtlSeconds: values.ACCESS_TOKEN_TTL_SECONDS,
    internalUrl: (values.INTERNAL_URL ?? `http://127.0.0.1:${values.PORT}`).replace(/\/+$/, ''),
    subscriptionTokenCheckSeconds: values.SUBSCRIPTION_TOKEN_CHECK_SECONDS,
    timeoutSweepSeconds: values.TIMEOUT_SWEEP_SECONDS,
    orderRecoveryGraceSeconds: values.ORDER_RECOVERY_GRACE_SECONDS,
    dataKeys,
    termsVersion: values.TERMS_VERSION,
    termsLinkTtlHours: values.TERMS_LINK_TTL_HOURS,
    smsOutboxSweepSeconds: values.SMS_OUTBOX_SWEEP_SECONDS,
    redisUrl: values.REDIS_URL,
    redisChannel: values.REDIS_CHANNEL,
    eventNotices,
    eventPollSeconds: values.EVENT_POLL_SECONDS,
    logLevel: values.LOG_LEVEL,
    shutdownGraceSeconds: values.SHUTDOWN_GRACE_SECONDS,
    metricsToken: values.METRICS_TOKEN,
    tokenCacheSeconds: values.TOKEN_CACHE_SECONDS,
    webSocketKeepAliveSeconds: values.WS_KEEPALIVE_SECONDS,
    workers: values.WORKERS,
    partners,
    sms,
    webhooks: webhookConfig(values),
    operationLimits: {
      maxDepth: values.GRAPHQL_MAX_DEPTH,
      maxAliases: values.GRAPHQL_MAX_ALIASES,
      maxCost: values.GRAPHQL_MAX_COST,
      maxTokens: values.GRAPHQL_MAX_TOKENS,
      maxDirectives: values.GRAPHQL_MAX_DIRECTIVES,
      maxRows: values.GRAPHQL_MAX_ROWS,
    },
    rateLimit: { perSecond: values.RATE_LIMIT_PER_CLIENT, store: values.REDIS_URL ? 'redis' : values.DATABASE_URL ? 'postgres' : 'memory' },
  };
}

import fs from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DataFolderInUseError, openDatabaseAdapter, type DatabaseHandle } from './db/adapter.js';
import { applyMigrations } from './db/migrate.js';
import { PrismaClient } from './generated/prisma/client.js';
import { ALL_SCOPES, CLIENT_ROLES } from './auth/scopes.js';
import { createRedisEventBus } from './events/redis-bus.js';
import { announceInvalidationThroughPostgres } from './events/postgres-bus.js';
import type { Invalidation } from './events/bus.js';
import { AdminInputError, runAdminCommand, type AdminRequest } from './admin/commands.js';
import { askRunningServer } from './admin/local-socket.js';
import { createDataProtection, embeddedDataKeys } from './crypto/data-protection.js';

/** Exit codes, documented in the README. */
export const EXIT = { ok: 0, failure: 1, usage: 2, refused: 3, config: 4, busy: 5 } as const;

type Options = NonNullable<ParseArgsConfig['options']>;

interface CommandSpec {
  usage: string;
  description: string;
  options: Options;
  /** Whether --json is offered (only where the output has a JSON form). */
  json: boolean;
  /** Checks the parsed command line; returns what to run or throws UsageError. */
  build(values: Record<string, string | boolean | Array<string | boolean> | undefined>, positionals: string[]): AdminRequest | TokenRequest;
}

interface TokenRequest {
  command: 'token';
  clientId: string;
  scope?: string;
  url?: string;
  secretFromStdin: boolean;
}

/** Thrown for a wrong command line; printed with the usage of the command (or the global one). */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

class RefusedError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

class BusyError extends Error {}

const PROGRAM = 'srs';

const COMMANDS: Record<string, CommandSpec> = {
  'clients create': {
    usage: 'clients create --name NAME --role ROLE [--issuer ISSUER] [--scope SCOPE ...] [--json]',
    description: [
      'Creates an OAuth2 client and prints its id and secret (shown only this once).',
      `ROLE: ${CLIENT_ROLES.join(' | ')}; IPSP clients need --issuer.`,
      `SCOPE: ${ALL_SCOPES.join(', ')} (default: every scope the role allows).`,
    ].join('\n'),
    options: { name: { type: 'string' }, role: { type: 'string' }, issuer: { type: 'string' }, scope: { type: 'string', multiple: true } },
    json: true,
    build(values, positionals) {
      if (positionals.length) throw new UsageError(`Unexpected argument: ${positionals.join(' ')}`, 'clients create');
      if (!values.name || !values.role) throw new UsageError('clients create needs --name and --role.', 'clients create');
      const scopes = (values.scope as string[] | undefined)?.flatMap((scope) => scope.split(/[\s,]+/)).filter(Boolean);
      return { command: 'clients create', name: values.name as string, role: values.role as string, issuer: values.issuer as string | undefined, scopes };
    },
  },
  'clients list': {
    usage: 'clients list [--json]',
    description: 'Lists the clients (never their secrets).',
    options: {},
    json: true,
    build(_values, positionals) {
      if (positionals.length) throw new UsageError(`Unexpected argument: ${positionals.join(' ')}`, 'clients list');
      return { command: 'clients list' };
    },
  },
  'clients disable': {
    usage: 'clients disable CLIENT_ID',
    description: 'Disables the client and revokes its tokens.',
    options: {},
    json: false,
    build(_values, positionals) {
      if (positionals.length !== 1) throw new UsageError('clients disable needs exactly one CLIENT_ID.', 'clients disable');
      return { command: 'clients disable', clientId: positionals[0] };
    },
  },
  'clients set-rate-limit': {
    usage: 'clients set-rate-limit CLIENT_ID N|default',
    description: "The client's own limit: N requests per second (0: none), or back to RATE_LIMIT_PER_CLIENT.",
    options: {},
    json: false,
    build(_values, positionals) {
      if (positionals.length !== 2 || !/^(\d{1,7}|default)$/.test(positionals[1])) {
        throw new UsageError('clients set-rate-limit needs a CLIENT_ID and a number of requests per second (0: no limit) or "default".', 'clients set-rate-limit');
      }
      return { command: 'clients set-rate-limit', clientId: positionals[0], perSecond: positionals[1] === 'default' ? null : Number(positionals[1]) };
    },
  },
  token: {
    usage: 'token CLIENT_ID [--scope SCOPE] [--url URL] [--secret-stdin] [--json]',
    description: [
      'Gets an access token for the client from the running service (client-credentials grant)',
      'and prints it alone on stdout: TOKEN=$(SRS_CLIENT_SECRET=… npx srs token CLIENT_ID).',
      'The secret comes from the environment variable SRS_CLIENT_SECRET, or from stdin with',
      '--secret-stdin; never on the command line, where every user of the machine could read it.',
      '--url: the service (default INTERNAL_URL, http://127.0.0.1:PORT). --json: the whole token response.',
    ].join('\n'),
    options: { scope: { type: 'string' }, url: { type: 'string' }, 'secret-stdin': { type: 'boolean', default: false }, secret: { type: 'string' } },
    json: true,
    build(values, positionals) {
      if (values.secret !== undefined) {
        throw new UsageError('--secret is not accepted: a secret on the command line is visible to every user (ps). Use SRS_CLIENT_SECRET or --secret-stdin.', 'token');
      }
      if (positionals.length !== 1) throw new UsageError('token needs exactly one CLIENT_ID.', 'token');
      if (values.url !== undefined && !/^https?:\/\/[^\s]+$/.test(values.url as string)) throw new UsageError(`--url must be an http(s) URL (got ${JSON.stringify(values.url)}).`, 'token');
      return { command: 'token', clientId: positionals[0], scope: values.scope as string | undefined, url: values.url as string | undefined, secretFromStdin: values['secret-stdin'] === true };
    },
  },
  'evidence revoke': {
    usage: 'evidence revoke EVIDENCE_ID --reason TEXT',
    description: 'Revokes an evidence (raw or GraphQL id): verify and lookup answer REVOKED from then on.',
    options: { reason: { type: 'string' } },
    json: false,
    build(values, positionals) {
      const reason = (values.reason as string | undefined)?.trim();
      if (positionals.length !== 1 || !reason) throw new UsageError('evidence revoke needs one EVIDENCE_ID and --reason.', 'evidence revoke');
      return { command: 'evidence revoke', evidenceId: positionals[0], reason };
    },
  },
  'keys rotate-evidence': {
    usage: 'keys rotate-evidence',
    description: 'Signs new evidence with a new key; the old keys stay published at /.well-known/jwks.json.',
    options: {},
    json: false,
    build(_values, positionals) {
      if (positionals.length) throw new UsageError(`Unexpected argument: ${positionals.join(' ')}`, 'keys rotate-evidence');
      return { command: 'keys rotate-evidence' };
    },
  },
};

const EXIT_CODES_TEXT = `Exit codes: ${EXIT.ok} ok, ${EXIT.failure} failure, ${EXIT.usage} usage (a wrong command line), ${EXIT.refused} refused (bad input, unknown id, rejected credentials),
${EXIT.config} invalid configuration, ${EXIT.busy} data folder busy (held by a process that does not answer).`;

const GLOBAL_USAGE = `Usage: ${PROGRAM} <command> [options]      (npx ${PROGRAM} …, or npm run -s cli -- …)

Commands:
${Object.entries(COMMANDS)
  .map(([, spec]) => `  ${spec.usage}\n${spec.description.replace(/^/gm, '      ')}`)
  .join('\n')}

${PROGRAM} <command> --help prints the usage of one command.
Works on DATABASE_URL, or on the embedded data folder (DATA_DIR): directly while no server runs on it,
through the running server otherwise. The database used is named on stderr.
${EXIT_CODES_TEXT}`;

function commandUsage(name: string): string {
  const spec = COMMANDS[name];
  return `Usage: ${PROGRAM} ${spec.usage}\n\n${spec.description}\n\n${EXIT_CODES_TEXT}`;
}

/** Finds the command (one or two words) at the start of the positionals. */
function commandOf(positionals: string[]): { name: string; rest: string[] } | undefined {
  const two = positionals.slice(0, 2).join(' ');
  if (COMMANDS[two]) return { name: two, rest: positionals.slice(2) };
  if (COMMANDS[positionals[0] ?? '']) return { name: positionals[0], rest: positionals.slice(1) };
  return undefined;
}

async function run(argv: string[]): Promise<void> {
  // The command words first, loosely, to know which options apply.
  const words = argv.filter((arg) => !arg.startsWith('-'));
  const found = commandOf(words);
  if (!found) {
    if (!words.length || words[0] === 'help') {
      if (argv.some((arg) => arg !== '--help' && arg !== '-h' && arg !== 'help')) throw new UsageError(`Unknown option: ${argv.join(' ')}`);
      console.log(GLOBAL_USAGE);
      return;
    }
    throw new UsageError(`Unknown command: ${words.join(' ')}`);
  }
  const spec = COMMANDS[found.name];
  const options: Options = { ...spec.options, help: { type: 'boolean', short: 'h', default: false } };
  if (spec.json) options.json = { type: 'boolean', default: false };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options });
  } catch (error) {
    const message = (error as Error).message;
    if (!spec.json && /--json/.test(message)) throw new UsageError(`${found.name} has no JSON output: --json is not accepted.`, found.name);
    throw new UsageError(message, found.name);
  }
  if (parsed.values.help) {
    console.log(commandUsage(found.name));
    return;
  }
  const positionals = parsed.positionals.slice(found.name.split(' ').length);
  const request = spec.build(parsed.values, positionals);
  const json = parsed.values.json === true;

  const config = loadConfig();
  if (request.command === 'token') return printToken(await requestToken(config, request), json);
  printResult(request, await runOnDatabase(config, request), json);
}

/** Runs the command on the database: directly, or through the server that holds the folder. */
async function runOnDatabase(config: Config, request: AdminRequest): Promise<Record<string, unknown>> {
  let database: DatabaseHandle;
  try {
    database = await openDatabaseAdapter({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  } catch (error) {
    if (!(error instanceof DataFolderInUseError)) throw error;
    return runThroughServer(config, request, error);
  }
  const where = database.kind === 'embedded' ? `embedded PostgreSQL in ${database.location}` : `PostgreSQL at ${database.location}`;
  console.error(`Database: ${where}`);
  const prisma = new PrismaClient({ adapter: database.adapter });
  try {
    await applyMigrations(database);
    return await runAdminCommand(
      {
        prisma,
        database,
        dataProtection: () => createDataProtection(config.dataKeys ?? embeddedDataKeys(config.dataDir)),
        async announce(invalidation) {
          // Running processes keep recent token checks for TOKEN_CACHE_SECONDS; tell them now.
          if (config.redisUrl) await announceThroughRedis(config.redisUrl, config.redisChannel, invalidation);
          // Processes listening through PostgreSQL (EVENT_NOTICES=postgres); none may be, which costs nothing.
          if (database.kind === 'postgres') await announceInvalidationThroughPostgres(database, invalidation);
        },
      },
      request,
    );
  } catch (error) {
    if (error instanceof AdminInputError) throw new RefusedError(error.problems);
    throw error;
  } finally {
    await prisma.$disconnect();
    await database.close();
  }
}

/** How long the CLI waits for a server that holds the folder but does not answer yet (starting). */
const SERVER_STARTING_WAIT_MS = 30_000;

async function runThroughServer(config: Config, request: AdminRequest, inUse: DataFolderInUseError): Promise<Record<string, unknown>> {
  const deadline = Date.now() + SERVER_STARTING_WAIT_MS;
  let announced = false;
  for (;;) {
    const answer = await askRunningServer(config.dataDir, request);
    if (answer) {
      if (!announced) console.error(`Database: embedded PostgreSQL in ${inUse.dataDir}, through the running server (process ${inUse.pid})`);
      if ('result' in answer) return answer.result;
      if ('problems' in answer) throw new RefusedError(answer.problems);
      throw new Error(answer.failure);
    }
    if (Date.now() > deadline) {
      throw new BusyError(`${inUse.message} It does not answer on its admin socket (${config.dataDir}/admin/srs.sock): is it still starting, or an older version?`);
    }
    if (!announced) {
      console.error(`The data folder ${inUse.dataDir} is held by process ${inUse.pid}, which is not answering yet; waiting for it to finish starting…`);
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function requestToken(config: Config, request: TokenRequest): Promise<Record<string, unknown>> {
  const secret = request.secretFromStdin ? fs.readFileSync(0, 'utf8').trim() : process.env.SRS_CLIENT_SECRET;
  if (!secret) throw new UsageError('token needs the client secret: set SRS_CLIENT_SECRET, or pipe it in with --secret-stdin.', 'token');
  const base = (request.url ?? config.internalUrl).replace(/\/+$/, '');
  console.error(`Service: ${base}`);
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (request.scope) form.set('scope', request.scope);
  let response: Response;
  try {
    response = await fetch(`${base}/oidc/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(request.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: form,
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new Error(`No service answers at ${base} (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}). Start it with npm start, or pass --url.`);
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.status === 200 && typeof body.access_token === 'string') return body;
  if (response.status === 400 || response.status === 401) {
    throw new RefusedError([`The service refused: ${String(body.error ?? response.status)}${body.error_description ? ` (${String(body.error_description)})` : ''}.`]);
  }
  throw new Error(`The service answered ${response.status}: ${JSON.stringify(body)}`);
}

function printToken(body: Record<string, unknown>, json: boolean): void {
  if (json) return console.log(JSON.stringify(body));
  console.log(body.access_token);
  console.error(`Token for scope "${String(body.scope ?? '')}", valid ${String(body.expires_in ?? '?')} s.`);
}

function printResult(request: AdminRequest, result: Record<string, unknown>, json: boolean): void {
  if (json) return console.log(JSON.stringify(request.command === 'clients list' ? result.clients : result));
  switch (request.command) {
    case 'clients create': {
      const issuer = result.issuer as string | null;
      console.log(`Created ${String(result.role)} client "${String(result.name)}"${issuer ? ` for issuer ${issuer}` : ''}.`);
      console.log(`  client id:     ${String(result.clientId)}`);
      console.log(`  client secret: ${String(result.clientSecret)}`);
      console.log(`  scopes:        ${(result.scopes as string[]).join(' ')}`);
      console.log('Keep the secret now: it is stored only as a hash and cannot be shown again.');
      console.log(`A token for it: TOKEN=$(SRS_CLIENT_SECRET='…' npx ${PROGRAM} token ${String(result.clientId)})`);
      return;
    }
    case 'clients list': {
      const clients = result.clients as Array<{ id: string; enabled: boolean; role: string; issuer: string | null; name: string; scopes: string[] }>;
      if (!clients.length) return console.log(`No clients yet. Create one with: npx ${PROGRAM} clients create --name NAME --role ROLE`);
      for (const client of clients) {
        console.log([client.id, client.enabled ? 'enabled ' : 'disabled', client.role.padEnd(16), client.issuer ?? '-', client.name, client.scopes.join(' ')].join('  '));
      }
      return;
    }
    case 'clients disable':
      return console.log(`Disabled client ${String(result.clientId)} ("${String(result.name)}"); its tokens are revoked.`);
    case 'clients set-rate-limit': {
      const perSecond = result.perSecond as number | null;
      return console.log(
        `Client ${String(result.clientId)} may now send ${perSecond === null ? 'RATE_LIMIT_PER_CLIENT' : perSecond === 0 ? 'any number of' : perSecond} requests per second (running processes apply it within 30 s).`,
      );
    }
    case 'evidence revoke':
      if (result.alreadyRevoked) return console.log(`Evidence ${String(result.evidenceId)} was already revoked.`);
      return console.log(`Revoked evidence ${String(result.evidenceId)}: ${String(result.reason)}`);
    case 'keys rotate-evidence':
      return console.log(`Evidence is now signed with key ${String(result.keyId)}; earlier keys stay published.`);
  }
}

run(process.argv.slice(2)).then(
  () => process.exit(EXIT.ok),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${error.command ? commandUsage(error.command) : GLOBAL_USAGE}`);
      process.exit(EXIT.usage);
    }
    if (error instanceof RefusedError) {
      console.error(error.problems.length === 1 ? error.problems[0] : `Refused:\n${error.problems.map((problem) => `  - ${problem}`).join('\n')}`);
      process.exit(EXIT.refused);
    }
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(EXIT.config);
    }
    if (error instanceof BusyError) {
      console.error(error.message);
      process.exit(EXIT.busy);
    }
    console.error('The command failed:', error instanceof Error ? error.message : error);
    process.exit(EXIT.failure);
  },
);

async function announceThroughRedis(url: string, channel: string, invalidation: Invalidation): Promise<void> {
  const bus = await createRedisEventBus({ url, channel, onError: () => {} });
  bus.publishInvalidation(invalidation);
  await bus.close();
}

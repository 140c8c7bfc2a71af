import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { DataFolderInUseError, openDatabaseAdapter } from './db/adapter.js';
import { applyMigrations } from './db/migrate.js';
import { PrismaClient } from './generated/prisma/client.js';
import { createClient, disableClient, InvalidClientInputError, listClients } from './auth/clients.js';
import { ALL_SCOPES, CLIENT_ROLES } from './auth/scopes.js';
import { rotateServiceKey } from './auth/service-keys.js';
import { EVIDENCE_KEY_PURPOSE } from './crypto/evidence-signing.js';
import { createDataProtection, embeddedDataKeys } from './crypto/data-protection.js';
import { revokeEvidence } from './services/evidence-admin.js';
import { createRedisEventBus } from './events/redis-bus.js';
import { announceInvalidationThroughPostgres } from './events/postgres-bus.js';
import type { Invalidation } from './events/bus.js';
import { setClientRateLimit } from './graphql/client-rate-limit.js';

const USAGE = `Usage: npm run cli -- <command>

Commands:
  clients create --name NAME --role ROLE [--issuer ISSUER] [--scope SCOPE ...] [--json]
      Creates an OAuth2 client and prints its id and secret (shown only this once).
      ROLE: ${CLIENT_ROLES.join(' | ')}; IPSP clients need --issuer.
      SCOPE: ${ALL_SCOPES.join(', ')} (default: every scope the role allows).
  clients list [--json]
  clients disable CLIENT_ID
      Disables the client and revokes its tokens.
  clients set-rate-limit CLIENT_ID N|default
      The client's own limit: N requests per second (0: none), or back to RATE_LIMIT_PER_CLIENT.
  evidence revoke EVIDENCE_ID --reason TEXT
      Revokes an evidence (raw or GraphQL id): verify and lookup answer REVOKED from then on.
  keys rotate-evidence
      Signs new evidence with a new key; the old keys stay published at /.well-known/jwks.json.

Works on the embedded data folder (DATA_DIR) while the server is stopped, or on DATABASE_URL at any time.`;

/** Thrown for a wrong command line; printed with the usage. */
class UsageError extends Error {}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      role: { type: 'string' },
      issuer: { type: 'string' },
      scope: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      reason: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [group, command, ...rest] = positionals;
  if (values.help || !group) {
    console.log(USAGE);
    return;
  }
  const known: Record<string, string[]> = { clients: ['create', 'list', 'disable', 'set-rate-limit'], evidence: ['revoke'], keys: ['rotate-evidence'] };
  if (!known[group]?.includes(command ?? '')) throw new UsageError(`Unknown command: ${positionals.join(' ')}`);
  if (group === 'evidence' && (rest.length !== 1 || !values.reason?.trim())) throw new UsageError('evidence revoke needs one EVIDENCE_ID and --reason.');
  if (command === 'create' && (!values.name || !values.role)) throw new UsageError('clients create needs --name and --role.');
  if (command === 'disable' && rest.length !== 1) throw new UsageError('clients disable needs exactly one CLIENT_ID.');
  if (command === 'set-rate-limit' && (rest.length !== 2 || !/^(\d{1,7}|default)$/.test(rest[1]))) {
    throw new UsageError('clients set-rate-limit needs a CLIENT_ID and a number of requests per second (0: no limit) or "default".');
  }

  const config = loadConfig();
  const database = await openDatabaseAdapter({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const prisma = new PrismaClient({ adapter: database.adapter });
  try {
    await applyMigrations(database);
    if (group === 'evidence') {
      const revoked = await revokeEvidence(prisma, rest[0], values.reason!.trim());
      if (revoked === 'not-found') throw new UsageError(`No evidence with id ${rest[0]}.`);
      if (revoked === 'already-revoked') console.log(`Evidence ${rest[0]} was already revoked.`);
      else console.log(`Revoked evidence ${revoked.id}: ${revoked.revocationReason}`);
    } else if (group === 'keys') {
      console.log(`Evidence is now signed with key ${await rotateServiceKey(prisma, EVIDENCE_KEY_PURPOSE, createDataProtection(config.dataKeys ?? embeddedDataKeys(config.dataDir)))}; earlier keys stay published.`);
    } else if (command === 'create') {
      const scopes = values.scope?.flatMap((scope) => scope.split(/[\s,]+/)).filter(Boolean);
      const { client, clientSecret } = await createClient(prisma, { name: values.name!, role: values.role!, issuer: values.issuer, scopes });
      if (values.json) {
        console.log(JSON.stringify({ clientId: client.id, clientSecret, name: client.name, role: client.role, issuer: client.issuer, scopes: client.scopes }));
      } else {
        console.log(`Created ${client.role} client "${client.name}"${client.issuer ? ` for issuer ${client.issuer}` : ''}.`);
        console.log(`  client id:     ${client.id}`);
        console.log(`  client secret: ${clientSecret}`);
        console.log(`  scopes:        ${client.scopes.join(' ')}`);
        console.log('Keep the secret now: it is stored only as a hash and cannot be shown again.');
      }
    } else if (command === 'list') {
      const clients = await listClients(prisma);
      if (values.json) {
        console.log(JSON.stringify(clients.map(({ secretHash: _secretHash, ...client }) => client)));
      } else if (!clients.length) {
        console.log('No clients yet. Create one with: npm run cli -- clients create --name NAME --role ROLE');
      } else {
        for (const client of clients) {
          console.log(
            [client.id, client.enabled ? 'enabled ' : 'disabled', client.role.padEnd(16), client.issuer ?? '-', client.name, client.scopes.join(' ')].join('  '),
          );
        }
      }
    } else if (command === 'set-rate-limit') {
      const perSecond = rest[1] === 'default' ? null : Number(rest[1]);
      if (!(await setClientRateLimit(prisma, rest[0], perSecond))) throw new UsageError(`No client with id ${rest[0]}.`);
      console.log(
        `Client ${rest[0]} may now send ${perSecond === null ? 'RATE_LIMIT_PER_CLIENT' : perSecond === 0 ? 'any number of' : perSecond} requests per second (running processes apply it within 30 s).`,
      );
    } else {
      const client = await disableClient(prisma, rest[0]);
      if (!client) throw new UsageError(`No client with id ${rest[0]}.`);
      // Running processes keep recent token checks for TOKEN_CACHE_SECONDS; tell them now.
      if (config.redisUrl) await announceInvalidation(config.redisUrl, config.redisChannel, { kind: 'client', id: client.id });
      // Processes listening through PostgreSQL (EVENT_NOTICES=postgres); none may be, which costs nothing.
      if (database.kind === 'postgres') await announceInvalidationThroughPostgres(database, { kind: 'client', id: client.id });
      console.log(`Disabled client ${client.id} ("${client.name}"); its tokens are revoked.`);
    }
  } finally {
    await prisma.$disconnect();
    await database.close();
  }
}

run(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(error as Error).message}\n\n${USAGE}`);
      process.exit(64);
    }
    if (error instanceof InvalidClientInputError) {
      console.error(`Cannot create the client:\n${error.problems.map((problem) => `  - ${problem}`).join('\n')}`);
      process.exit(65);
    }
    if (error instanceof ConfigError || error instanceof DataFolderInUseError) {
      console.error(error.message);
      process.exit(error instanceof DataFolderInUseError ? 75 : 78);
    }
    console.error('The command failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

async function announceInvalidation(url: string, channel: string, invalidation: Invalidation): Promise<void> {
  const bus = await createRedisEventBus({ url, channel, onError: () => {} });
  bus.publishInvalidation(invalidation);
  await bus.close();
}

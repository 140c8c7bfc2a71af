// The OAuth2 endpoints with oidc-provider's storage in the database (the default) against the
// same service with its storage in memory (bench/memory-oidc-service.ts): what the persistent tokens cost.
// Two service children, each on its own fresh database, loaded one at a time.
import { basicAuthorization, describeLoad, profileFlags, runLoad, startService, type LoadResult, type ServiceChild } from '../harness.js';
import { info, lessIsBetter, moreIsBetter } from '../report.js';
import type { BenchOptions, Scenario, ScenarioResult } from '../options.js';

const TARGET_RATIO = 0.8;
const FORM = 'application/x-www-form-urlencoded';

interface Store {
  service: ServiceChild;
  /** Basic authorization of the service provider that asks for tokens. */
  requester: string;
  /** Basic authorization of the ADMIN client that introspects (ADMIN may introspect any token). */
  introspector: string;
  /** The access token it introspects. */
  token: string;
}

async function prepare(label: string, entry: string | undefined, options: BenchOptions): Promise<Store> {
  const service = await startService({ label, entry, nodeFlags: profileFlags(options.cpuProfile), echo: options.verbose });
  const provider = await service.createClient('SERVICE_PROVIDER', { name: `bench ${label} provider` });
  const admin = await service.createClient('ADMIN', { name: `bench ${label} introspector` });
  return { service, requester: basicAuthorization(provider), introspector: basicAuthorization(admin), token: await service.token(provider) };
}

const isToken = (status: number, body: string) => status === 200 && body.includes('"access_token"');
const isActive = (status: number, body: string) => status === 200 && body.includes('"active":true');

async function run(options: BenchOptions): Promise<ScenarioResult> {
  const stores = {
    database: await prepare('tokens_database', undefined, options),
    memory: await prepare('tokens_memory', 'bench/memory-oidc-service.ts', options),
  };
  const common = {
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    watch: { 'database store': stores.database.service.child.pid, 'memory store': stores.memory.service.child.pid },
  };
  const profile = (store: Store, name: string) => (options.cpuProfile ? { child: store.service.child, name } : undefined);
  const issue = (store: Store, name: string) =>
    runLoad({
      ...common,
      profile: profile(store, name),
      databaseUrl: store.service.env.DATABASE_URL,
      url: store.service.url,
      path: '/oidc/token',
      headers: { authorization: store.requester, 'content-type': FORM },
      body: 'grant_type=client_credentials',
      accept: isToken,
    });
  const introspect = (store: Store, name: string) =>
    runLoad({
      ...common,
      profile: profile(store, name),
      databaseUrl: store.service.env.DATABASE_URL,
      url: store.service.url,
      path: '/oidc/token/introspection',
      headers: { authorization: store.introspector, 'content-type': FORM },
      body: `token=${encodeURIComponent(store.token)}`,
      accept: isActive,
    });

  const measured = async (label: string, load: Promise<LoadResult>) => {
    const result = await load;
    console.log(describeLoad(label, result));
    return result;
  };
  const results: Record<'token' | 'introspection', Record<'database' | 'memory', LoadResult>> = {
    token: { database: await measured('token, database store', issue(stores.database, 'token-database-store')), memory: await measured('token, memory store', issue(stores.memory, 'token-memory-store')) },
    introspection: {
      database: await measured('introspection, database store', introspect(stores.database, 'introspection-database-store')),
      memory: await measured('introspection, memory store', introspect(stores.memory, 'introspection-memory-store')),
    },
  };
  await Promise.all([stores.database.service.stop(), stores.memory.service.stop()]);

  const figures = (['token', 'introspection'] as const).flatMap((endpoint) => {
    const { database, memory } = results[endpoint];
    const path = endpoint === 'token' ? 'POST /oidc/token' : 'POST /oidc/token/introspection';
    return [
      moreIsBetter({
        scenario: 'tokens',
        figure: `${path} database vs memory store`,
        value: database.rps,
        unit: 'req/s',
        reference: { kind: 'baseline', label: 'memory', value: memory.rps },
        minRatio: TARGET_RATIO,
      }),
      lessIsBetter({
        scenario: 'tokens',
        figure: `${path} p99 database vs memory`,
        value: database.latencyMs.p99,
        unit: 'ms',
        reference: { kind: 'baseline', label: 'memory', value: memory.latencyMs.p99 },
      }),
      info({ scenario: 'tokens', figure: `${path} failed answers`, value: database.failed + database.errors + memory.failed + memory.errors, unit: '' }),
    ];
  });
  return { figures, details: results };
}

export const tokensScenario: Scenario = {
  name: 'tokens',
  description: 'POST /oidc/token and introspection: database storage vs in memory (bench/memory-oidc-adapter.ts)',
  run,
};

// The rule of who may see which orders has three forms (auth/visibility.ts): the Prisma `where`
// the queries and GraphQL lookups use, the SQL condition of the dashboard's statistics, and the
// in-memory predicate the event subscriptions filter the feed with. For random orders and
// viewers, each form must pick exactly the same orders from the database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { openDatabaseAdapter, type DatabaseHandle } from '../../src/db/adapter.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { mayView, visibleOrders, visibleOrdersSql } from '../../src/auth/visibility.js';
import { CLIENT_ROLES } from '../../src/auth/scopes.js';
import type { Viewer } from '../../src/auth/viewer.js';
import { freshDatabaseEnv } from '../kit.js';

const CLIENTS = ['sp-a', 'sp-b', 'sp-c'];
const ISSUERS = ['KLARNA', 'NECT', 'TEST'];
const METHOD_ID = 'visibility-method';

let database: DatabaseHandle;
let prisma: PrismaClient;
let drop: () => Promise<void>;

beforeAll(async () => {
  const fresh = await freshDatabaseEnv();
  drop = fresh.drop;
  database = await openDatabaseAdapter({ databaseUrl: fresh.env.DATABASE_URL, dataDir: fresh.env.DATA_DIR ?? '' });
  await applyMigrations(database);
  prisma = new PrismaClient({ adapter: database.adapter });
  await prisma.identificationMethod.create({
    data: {
      id: METHOD_ID,
      name: 'Visibility',
      issuer: 'TEST',
      type: 'VIDEO',
      capabilities: [],
      offline: false,
      webFlow: true,
      realtime: true,
      languages: ['en'],
      evidenceValidityMonths: 12,
      termsInApp: false,
      testOnly: true,
      initialData: [],
      position: 0,
    },
  });
});

afterAll(async () => {
  await prisma?.$disconnect();
  await database?.close();
  await drop?.();
});

const viewerArbitrary: fc.Arbitrary<Viewer> = fc.record({
  role: fc.constantFrom(...CLIENT_ROLES),
  // A client that owns no order, and an issuer no order has, besides those that do.
  clientId: fc.constantFrom(...CLIENTS, 'sp-without-orders'),
  issuer: fc.option(fc.constantFrom(...ISSUERS, 'OTHER'), { nil: null }),
  name: fc.constant('viewer'),
  scopes: fc.constant([]),
  tokenExpiresAt: fc.constant(new Date(0)),
  accessToken: fc.constant(''),
});

const ordersArbitrary = fc.array(fc.record({ clientId: fc.constantFrom(...CLIENTS), issuer: fc.constantFrom(...ISSUERS) }), { maxLength: 12 });

const sorted = (ids: string[]) => [...ids].sort();

describe('who may see which orders', () => {
  it('the Prisma where, the SQL condition and the in-memory predicate select the same orders', async () => {
    await fc.assert(
      fc.asyncProperty(ordersArbitrary, fc.array(viewerArbitrary, { minLength: 1, maxLength: 6 }), async (orders, viewers) => {
        await prisma.order.deleteMany();
        const stored = orders.map((order) => ({ id: randomUUID(), refId: randomUUID(), methodId: METHOD_ID, status: 'CREATED' as const, initialDataSealed: '', ...order }));
        await prisma.order.createMany({ data: stored });
        for (const viewer of viewers) {
          const inMemory = stored.filter((order) => mayView(viewer, order)).map((order) => order.id);
          const byPrisma = (await prisma.order.findMany({ where: visibleOrders(viewer), select: { id: true } })).map((row) => row.id);
          const params: unknown[] = [];
          const bySql = (await database.query<{ id: string }>(`SELECT o.id FROM "Order" o WHERE ${visibleOrdersSql(viewer, params)}`, params)).map((row) => row.id);
          expect(sorted(byPrisma)).toEqual(sorted(inMemory));
          expect(sorted(bySql)).toEqual(sorted(inMemory));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('an operator sees every order, a partner its issuer’s, a provider its own, a partner without issuer none', () => {
    const order = { clientId: 'sp-a', issuer: 'KLARNA' };
    const viewer = (role: Viewer['role'], clientId: string, issuer: string | null) => ({ role, clientId, issuer });
    expect(mayView(viewer('ADMIN', 'op', null), order)).toBe(true);
    expect(mayView(viewer('IPSP', 'ipsp', 'KLARNA'), order)).toBe(true);
    expect(mayView(viewer('IPSP', 'ipsp', 'NECT'), order)).toBe(false);
    expect(mayView(viewer('IPSP', 'sp-a', null), order)).toBe(false);
    expect(mayView(viewer('SERVICE_PROVIDER', 'sp-a', 'NECT'), order)).toBe(true);
    expect(mayView(viewer('SERVICE_PROVIDER', 'sp-b', 'KLARNA'), order)).toBe(false);
  });
});

import { defineConfig } from 'vitest/config';

// Unit tests run once; API tests run on embedded PGlite always, and again on PostgreSQL when
// TEST_DATABASE_URL names a server database to create throwaway databases from.
const backends = ['pglite', ...(process.env.TEST_DATABASE_URL ? ['postgres'] : [])];
// Several server processes as one service (test/cluster): they need a PostgreSQL server to share
// and a Redis to carry event notices between them, so they run only when both are named.
const cluster = Boolean(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL);

export default defineConfig({
  // graphql ships index.mjs and index.js: Vite would hand our code the .mjs copy while
  // graphql-yoga, loaded by Node, gets the .js one; two GraphQLError classes would make yoga mask
  // our errors (UNAUTHENTICATED became a 500). One copy for everyone, as under tsx.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      ...backends.map((backend) => ({
        extends: true as const,
        test: { name: backend, include: ['test/api/**/*.test.ts'], env: { SRS_TEST_BACKEND: backend } },
      })),
      ...(cluster
        ? [
            {
              extends: true as const,
              test: { name: 'cluster', include: ['test/cluster/**/*.test.ts'], env: { SRS_TEST_BACKEND: 'postgres' }, testTimeout: 180_000, hookTimeout: 240_000 },
            },
          ]
        : []),
    ],
  },
});

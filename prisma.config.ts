import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { openDatabaseAdapter } from './src/db/adapter.js';

// Without DATABASE_URL the CLI cannot read the schema and silently falls back to downloading
// native engines; the placeholder only satisfies the schema, the adapter below decides.
const serverUrl = process.env.DATABASE_URL;
process.env.DATABASE_URL ??= 'postgresql://embedded@localhost/pglite';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  adapter: async () => (await openDatabaseAdapter({ databaseUrl: serverUrl, dataDir: process.env.DATA_DIR ?? '.data' })).adapter as never, // the config types pin their own copy of the adapter interface
});

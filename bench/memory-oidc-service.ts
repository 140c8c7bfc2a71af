// The service with its OAuth2 storage in memory (bench/memory-oidc-adapter.ts), started through
// the public seam startService(config, { oidcAdapter }): the other side of the `tokens` scenario.
import { loadConfig } from '../src/config.js';
import { startService } from '../src/server.js';
import { createMemoryOidcAdapter } from './memory-oidc-adapter.js';

const service = await startService(loadConfig(), { oidcAdapter: createMemoryOidcAdapter });
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void service.close().then(() => process.exit(0)));

// Imported first by src/main.ts, before any library: the service's output is JSON lines only.
// Libraries that print plain text at import or start (oidc-provider's "WARNING: Unsupported
// runtime", Node's process warnings) are turned into log lines at their source.
import { log } from './log.js';

const LIBRARY_PREFIX = /^(oidc-provider) (WARNING|NOTICE): (.*)$/s;

for (const method of ['warn', 'info'] as const) {
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    const match = typeof args[0] === 'string' && args.length === 1 ? LIBRARY_PREFIX.exec(args[0]) : null;
    if (!match) return original(...args);
    log()[match[2] === 'WARNING' ? 'warn' : 'info']({ source: match[1] }, match[3]);
  };
}

// Node prints process warnings (deprecations, experimental features) to stderr through a
// default 'warning' listener; ours logs them instead.
process.removeAllListeners('warning');
process.on('warning', (warning) => log().warn({ source: 'node', warning: warning.name, code: (warning as NodeJS.ErrnoException).code }, warning.message));

// The benchmark drives the service only through its public seams (HTTP, the CLI, the exported
// factories): a benchmark that reaches into internals measures code the service does not run.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const BENCH = path.resolve(import.meta.dirname, '../../bench');
const SRC = path.resolve(import.meta.dirname, '../../src');
/** What bench/ may import from src/: starting the service, its configuration, the overrides' types. */
const PUBLIC_SEAMS = ['server.ts', 'config.ts', 'app.ts'];

function benchSources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'results' || entry.name === 'recorded' ? [] : benchSources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function importsIntoSrc(file: string, text = fs.readFileSync(file, 'utf8')): string[] {
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((match) => match[1]);
  return specifiers
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => path.relative(SRC, path.resolve(path.dirname(file), specifier)).replace(/\.js$/, '.ts'))
    .filter((relative) => !relative.startsWith('..'));
}

describe('bench/', () => {
  it('imports from src/ only the public seams', () => {
    const files = benchSources(BENCH);
    expect(files.length).toBeGreaterThan(10);
    const internals = files.flatMap((file) => importsIntoSrc(file).filter((target) => !PUBLIC_SEAMS.includes(target)).map((target) => `${path.relative(BENCH, file)} -> src/${target}`));
    expect(internals).toEqual([]);
  });

  it('would notice an internal import', () => {
    const probe = path.join(BENCH, 'scenarios', 'probe.ts');
    expect(importsIntoSrc(probe, "import { placeOrder } from '../../src/services/orders.js';\nimport type { App } from '../../src/app.js';\n")).toEqual(['services/orders.ts', 'app.ts']);
  });
});

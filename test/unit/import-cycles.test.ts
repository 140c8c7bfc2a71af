// The layers of src/ import each other in one direction only: a cycle (even through a type
// import) means two modules can no longer be read, tested or replaced apart. This walks the
// relative imports of every module of src/ (the generated clients aside) with the TypeScript
// compiler's own pre-processor and fails on any strongly connected group of modules.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const EXCLUDED = [path.join(SRC, 'generated')];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (EXCLUDED.includes(full)) return [];
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The modules of src/ a file imports or re-exports (static, dynamic and type-only alike). */
function importsOf(file: string, modules: Set<string>): string[] {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map(({ fileName }) => fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => path.resolve(path.dirname(file), name.replace(/\.js$/, '.ts')))
    .filter((resolved) => modules.has(resolved));
}

/** Tarjan's strongly connected components with more than one member, or a module importing itself. */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || graph.get(node)!.includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

const PRISMA_OPERATIONS = 'find\\w*|create\\w*|update\\w*|upsert|delete\\w*|count|aggregate|groupBy';

/** Statements on a table in a module's text: through its Prisma delegate, or an SQL write. */
function queriesIn(text: string, table: { name: string; delegate: string }): string[] {
  const query = new RegExp(`\\w+\\.${table.delegate}\\s*\\.(?:${PRISMA_OPERATIONS})\\(|(?:INSERT INTO|UPDATE|DELETE FROM)\\s+"${table.name}"`, 'g');
  return [...text.matchAll(query)].map((match) => match[0]);
}

const CLIENT = { name: 'Client', delegate: 'client' };
const SMS_MESSAGE = { name: 'SmsMessage', delegate: 'smsMessage' };

describe('the import graph of src/', () => {
  it('has no cycle', () => {
    const files = sourceFiles(SRC);
    const modules = new Set(files);
    const graph = new Map(files.map((file) => [file, importsOf(file, modules)]));
    expect(graph.size).toBeGreaterThan(100);
    const relative = cycles(graph).map((component) => component.map((file) => path.relative(SRC, file)));
    expect(relative).toEqual([]);
  });

  it('keeps the event pipeline below the services: events/ imports only db/, domain/, generated/, the Viewer type and itself', () => {
    const files = sourceFiles(SRC);
    const modules = new Set(files);
    const allowed = ['events', 'db', 'domain', 'generated', path.join('auth', 'viewer.ts')].map((prefix) => path.join(SRC, prefix));
    const reaching = files
      .filter((file) => file.startsWith(path.join(SRC, 'events') + path.sep))
      .flatMap((file) => importsOf(file, modules).filter((target) => !allowed.some((prefix) => target === prefix || target.startsWith(prefix + path.sep))).map((target) => `${path.relative(SRC, file)} -> ${path.relative(SRC, target)}`));
    expect(reaching).toEqual([]);
  });

  it.each([
    [CLIENT, path.join('auth', 'client-store.ts')],
    [SMS_MESSAGE, path.join('sms', 'outbox.ts')],
  ])('leaves the $name table to its store: no other module queries it through Prisma or writes it in SQL', (table, store) => {
    const querying = sourceFiles(SRC)
      .filter((file) => file !== path.join(SRC, store))
      .flatMap((file) => queriesIn(fs.readFileSync(file, 'utf8'), table).map((use) => `${path.relative(SRC, file)}: ${use}`));
    expect(querying).toEqual([]);
  });

  it('recognises a query of a table', () => {
    expect(queriesIn('await tx.client.findUnique({ where: { id } });\nprisma.client\n  .count()', CLIENT)).toEqual(['tx.client.findUnique(', 'prisma.client\n  .count(']);
    expect(queriesIn('`UPDATE "Client" SET enabled = false`', CLIENT)).toEqual(['UPDATE "Client"']);
    expect(queriesIn('deps.prisma.clientId; redis.client; LEFT JOIN "Client" requester; prisma.smsMessage.count()', CLIENT)).toEqual([]);
    expect(queriesIn('`INSERT INTO "SmsMessage" (id)`; deps.prisma.smsMessage.aggregate(', SMS_MESSAGE)).toEqual(['INSERT INTO "SmsMessage"', 'prisma.smsMessage.aggregate(']);
  });

  it('finds a cycle when there is one', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c']]);
  });
});

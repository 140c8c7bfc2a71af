// Writes schema/schema.graphql from the code; `--check` only compares and fails on a difference.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSortedSchema } from '../src/schema/print.js';

const target = fileURLToPath(new URL('../schema/schema.graphql', import.meta.url));
const printed = printSortedSchema();
if (process.argv.includes('--check')) {
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
  if (current !== printed) {
    console.error('schema/schema.graphql is out of date: run npm run schema:print');
    process.exit(1);
  }
} else {
  fs.writeFileSync(target, printed);
  console.log(`Wrote ${target}`);
}

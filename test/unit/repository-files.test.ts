// What users expect to find in the repository, kept true as the code changes.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (file: string) => fs.readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

describe('repository files', () => {
  it('.env.example names every variable src/config.ts reads, each with a comment', () => {
    // src/config.ts and the subsystems whose variables it spreads into its schema.
    const sources = ['src/config.ts', 'src/partners/config.ts', 'src/sms/gateways.ts', 'src/webhooks/config.ts'];
    const variables = sources.flatMap((source) => [...read(source).matchAll(/^ {2}([A-Z][A-Z0-9_]+): [a-zA-Z]+\./gm)].map((match) => match[1]));
    expect(variables.length).toBeGreaterThan(20);
    const example = read('.env.example');
    for (const variable of variables) expect(example, variable).toMatch(new RegExp(`#[^\\n]*\\n${variable}=`));
  });

  it('LICENSE is the Apache-2.0 text package.json names', () => {
    expect(JSON.parse(read('package.json')).license).toBe('Apache-2.0');
    const license = read('LICENSE');
    expect(license).toContain('Apache License');
    expect(license).toContain('Version 2.0, January 2004');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });
});

import { describe, expect, it } from 'vitest';
import { loopbackAliases } from '../../src/startup/discovery-aliases.js';

describe('loopbackAliases', () => {
  it('gives the other spelling of a loopback PUBLIC_URL, and nothing for a real host', () => {
    expect(loopbackAliases('http://127.0.0.1:4000')).toEqual(['http://localhost:4000']);
    expect(loopbackAliases('http://localhost:4000')).toEqual(['http://127.0.0.1:4000']);
    expect(loopbackAliases('https://srs.example.com')).toEqual([]);
    expect(loopbackAliases('http://127.0.0.2:4000')).toEqual([]);
  });
});

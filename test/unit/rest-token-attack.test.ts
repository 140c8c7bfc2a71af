import { describe, expect, it } from 'vitest';
import { tokenRequestFrom } from '../../src/rest/token.js';
import { RestError } from '../../src/rest/http.js';

describe('tokenRequestFrom under attack', () => {
  it('refuses client credentials in the query string beside an Authorization header (one method per request)', () => {
    const query = new URLSearchParams('client_id=a&client_secret=s&grant_type=client_credentials');
    expect(() => tokenRequestFrom(query, new URLSearchParams(), 'Basic eDp5')).toThrow(RestError);
    expect(() => tokenRequestFrom(new URLSearchParams('grant_type=client_credentials'), new URLSearchParams('client_id=a&client_secret=s'), 'Basic eDp5')).toThrow(RestError);
    expect(tokenRequestFrom(query, new URLSearchParams(), undefined).authorization).toMatch(/^Basic /);
  });
});

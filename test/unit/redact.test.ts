import { describe, expect, it } from 'vitest';
import { loggablePath } from '../../src/observability/redact.js';

describe('loggablePath', () => {
  it('cuts the secret of a T&C link', () => {
    expect(loggablePath('/terms/3kQ9x_secretSECRETsecret')).toBe('/terms/…');
    expect(loggablePath('/terms/3kQ9x_secret/accept?x=1')).toBe('/terms/…/accept');
  });
  it('never keeps a query string', () => {
    expect(loggablePath('/oidc/token?client_secret=hunter2&client_id=a')).toBe('/oidc/token');
    expect(loggablePath('/ipsp/test/ident/TEST-1?token=abc')).toBe('/ipsp/test/ident/TEST-1');
    expect(loggablePath('/graphql#token=abc')).toBe('/graphql');
  });
  it('leaves other paths as they are', () => {
    expect(loggablePath('/graphql')).toBe('/graphql');
    expect(loggablePath('/termsandconditions')).toBe('/termsandconditions');
  });
});

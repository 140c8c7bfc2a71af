import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { applySecurityHeaders, PAGE_CONTENT_SECURITY_POLICY, setContentSecurityPolicy } from '../../src/http/security-headers.js';

function headersOf(configure: (response: http.ServerResponse) => void): http.OutgoingHttpHeaders {
  const response = new http.ServerResponse(new http.IncomingMessage(null as never));
  configure(response);
  return response.getHeaders();
}

describe('security headers', () => {
  it('sends HSTS only when the service is reached over https', () => {
    expect(headersOf((response) => applySecurityHeaders(response, { https: true }))['strict-transport-security']).toMatch(/^max-age=\d{7,}$/);
    expect(headersOf((response) => applySecurityHeaders(response, { https: false }))['strict-transport-security']).toBeUndefined();
  });

  it('lets a page replace the policy, which still forbids framing', () => {
    const headers = headersOf((response) => {
      applySecurityHeaders(response, { https: false });
      setContentSecurityPolicy(response);
    });
    expect(headers['content-security-policy']).toBe(PAGE_CONTENT_SECURITY_POLICY);
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-frame-options']).toBe('DENY');
  });
});

import { describe, expect, it } from 'vitest';
import { checkWebhookUrl } from '../../src/webhooks/url-guard.js';

describe('the webhook URL guard under attack', () => {
  it.each([
    'http://[::ffff:127.0.0.1]/', 'http://0/', 'http://2130706433/', 'http://0x7f.1/', 'http://017700000001/', 'http://127.0.0.1./',
    'http://[::]/', 'http://[::127.0.0.1]/', 'http://[0:0:0:0:0:ffff:a9fe:a9fe]/', 'http://[64:ff9b::7f00:1]/', 'http://%31%32%37.0.0.1/',
    'http://127.0.0.1\u3002/', 'http://localhost./', 'http://localhost%2e/', 'http://foo.localhost/', 'https://metadata.google.internal./',
    // IPv4-translated (SIIT) form of 127.0.0.1
    'http://[::ffff:0:7f00:1]/',
  ])('refuses %s', (url) => {
    expect(checkWebhookUrl(url, false).ok).toBe(false);
  });

  it('still takes a public address', () => {
    expect(checkWebhookUrl('https://[2a00:1450:4001::1]/hooks', false).ok).toBe(true);
    expect(checkWebhookUrl('https://93.184.216.34/hooks', false).ok).toBe(true);
  });
});

// The gateways' errors: an unreachable provider is an error the outbox retries, and no error
// names the credentials or the text.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createSmsGateway, httpSmsGateway, SmsSendError, twilioSmsGateway } from '../../src/sms/gateways.js';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const message = { to: '+41791234567', text: 'Accept the terms: https://srs.example/terms/secret-link' };

describe('SMS gateways', () => {
  it('an unreachable provider fails the send with a message naming neither token nor text', async () => {
    const port = await closedPort();
    const gateways = [
      httpSmsGateway({ url: `http://127.0.0.1:${port}/send?key=in-the-url`, token: 'bearer-secret' }),
      twilioSmsGateway({ apiUrl: `http://127.0.0.1:${port}`, accountSid: `AC${'a'.repeat(32)}`, authToken: 'twilio-secret', from: 'SRS' }),
    ];
    for (const gateway of gateways) {
      const error = await gateway.send(message).catch((caught: unknown) => caught as Error);
      expect(error).toBeInstanceOf(SmsSendError);
      expect((error as Error).message).toMatch(/^The SMS provider \((http|twilio)\) could not be reached: .*ECONNREFUSED/);
      for (const secret of ['bearer-secret', 'twilio-secret', 'in-the-url', 'secret-link', message.to]) expect((error as Error).message).not.toContain(secret);
    }
  });

  it('counts sends and failures by gateway in the registry it is given', async () => {
    const registry = new Registry();
    const gateway = createSmsGateway({ gateway: 'http', url: `http://127.0.0.1:${await closedPort()}`, token: 't' }, { registry });
    await expect(gateway.send(message)).rejects.toBeInstanceOf(SmsSendError);
    const text = await registry.metrics();
    expect(text).toContain('srs_sms_send_failures_total{gateway="http"} 1');
    expect(text).toContain('srs_sms_sent_total{gateway="http"} 0');
    const recording = createSmsGateway({ gateway: 'log' }, { registry: new Registry() });
    await expect(recording.send(message)).resolves.toBeUndefined();
  });
});

// The SMS gateway the configuration names (SMS_GATEWAY): `log` records only (the default),
// `http` posts JSON to a provider of the operator's, `twilio` uses Twilio's REST API. A refused
// or unreachable provider makes send() throw; the outbox retries with back-off (outbox.ts).
// Neither the text (it carries the personal T&C link) nor a credential ever reaches an error
// message, the log or the outbox's lastError.
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import { post, type HttpAnswer } from '../partners/http-client.js';
import { log } from '../observability/log.js';
import { recordingGateway, type SmsGateway } from './gateway.js';

/** Sending runs inside the outbox's transaction (it holds the row lock): well under its 15 s. */
const SEND_TIMEOUT_MS = 5_000;
export const TWILIO_DEFAULT_API_URL = 'https://api.twilio.com';

export type SmsConfig =
  | { gateway: 'log' }
  | { gateway: 'http'; url: string; token: string }
  | { gateway: 'twilio'; apiUrl: string; accountSid: string; authToken: string; from: string };

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

export const smsEnvironment = {
  SMS_GATEWAY: z.enum(['log', 'http', 'twilio']).default('log'),
  SMS_HTTP_URL: httpUrl.optional(),
  SMS_HTTP_TOKEN: z.string().min(1).optional(),
  TWILIO_API_URL: httpUrl.optional(),
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be a Twilio account SID (AC followed by 32 hex digits)').optional(),
  TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
  TWILIO_FROM: z.string().min(1).optional(),
};

/** The variables whose values an error message must never show. */
export const SMS_SECRET_VARIABLES = ['SMS_HTTP_TOKEN', 'TWILIO_AUTH_TOKEN'];

type SmsEnvironment = z.output<z.ZodObject<typeof smsEnvironment>>;

/** The gateway's settings; pushes a problem naming each variable the chosen gateway lacks. */
export function loadSmsConfig(values: SmsEnvironment, problems: string[]): SmsConfig {
  const missing = (names: Array<keyof SmsEnvironment>) => {
    const absent = names.filter((name) => !values[name]);
    for (const name of absent) problems.push(`${name}: required with SMS_GATEWAY=${values.SMS_GATEWAY}`);
    return absent.length > 0;
  };
  if (values.SMS_GATEWAY === 'http') {
    if (missing(['SMS_HTTP_URL', 'SMS_HTTP_TOKEN'])) return { gateway: 'log' };
    return { gateway: 'http', url: values.SMS_HTTP_URL!, token: values.SMS_HTTP_TOKEN! };
  }
  if (values.SMS_GATEWAY === 'twilio') {
    if (missing(['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'])) return { gateway: 'log' };
    return {
      gateway: 'twilio',
      apiUrl: (values.TWILIO_API_URL ?? TWILIO_DEFAULT_API_URL).replace(/\/+$/, ''),
      accountSid: values.TWILIO_ACCOUNT_SID!,
      authToken: values.TWILIO_AUTH_TOKEN!,
      from: values.TWILIO_FROM!,
    };
  }
  return { gateway: 'log' };
}

/** An SMS provider refused or could not be reached; the message is safe to store and log. */
export class SmsSendError extends Error {}

async function deliver(gateway: string, url: string, options: { headers: Record<string, string>; body: string }, explain: (answer: HttpAnswer) => string = () => ''): Promise<void> {
  let answer: HttpAnswer;
  try {
    answer = await post(url, { ...options, timeoutMs: SEND_TIMEOUT_MS });
  } catch (error) {
    // Node's network errors name the host and port, never the path, headers or body.
    throw new SmsSendError(`The SMS provider (${gateway}) could not be reached: ${(error as Error).message}`);
  }
  if (!answer.ok) throw new SmsSendError(`The SMS provider (${gateway}) answered ${answer.status}${explain(answer)}`);
}

/** POST {"to", "text"} as JSON with a bearer token; any 2xx means sent. */
export function httpSmsGateway(settings: { url: string; token: string }): SmsGateway {
  return {
    send: (message) =>
      deliver('http', settings.url, {
        headers: { authorization: `Bearer ${settings.token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ to: message.to, text: message.text }),
      }),
  };
}

/** Twilio's Messages resource: a form POST with HTTP Basic authentication by account SID and auth token. */
export function twilioSmsGateway(settings: { apiUrl: string; accountSid: string; authToken: string; from: string }): SmsGateway {
  const url = `${settings.apiUrl}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString('base64')}`;
  return {
    send: (message) =>
      deliver(
        'twilio',
        url,
        {
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams({ To: message.to, From: settings.from, Body: message.text }).toString(),
        },
        // Twilio's error code says what went wrong; its message may quote the number, so it stays out.
        (answer) => {
          const code = twilioErrorCode(answer.text);
          return code ? ` (Twilio error ${code}, see https://www.twilio.com/docs/errors/${code})` : '';
        },
      ),
  };
}

function twilioErrorCode(text: string): number | undefined {
  try {
    const code = (JSON.parse(text) as { code?: unknown }).code;
    return typeof code === 'number' && Number.isInteger(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The configured gateway, counted in the metrics (srs_sms_sent_total and
 * srs_sms_send_failures_total by gateway) and with every failure logged as a warning.
 */
export function createSmsGateway(config: SmsConfig, metrics: { registry: Registry }): SmsGateway {
  const gateway =
    config.gateway === 'http' ? httpSmsGateway(config) : config.gateway === 'twilio' ? twilioSmsGateway(config) : recordingGateway;
  const registers = [metrics.registry];
  const sent = new Counter({ name: 'srs_sms_sent_total', help: 'SMS handed to the gateway, by gateway.', labelNames: ['gateway'] as const, registers });
  const failures = new Counter({
    name: 'srs_sms_send_failures_total',
    help: 'SMS the gateway refused or could not reach (each retried by the outbox), by gateway.',
    labelNames: ['gateway'] as const,
    registers,
  });
  // Both series exist from the start, so a rate over them needs no first failure.
  sent.inc({ gateway: config.gateway }, 0);
  failures.inc({ gateway: config.gateway }, 0);
  return {
    async send(message) {
      try {
        await gateway.send(message);
      } catch (error) {
        failures.inc({ gateway: config.gateway });
        const reason = error instanceof SmsSendError ? error.message : 'The SMS gateway failed.';
        log().warn({ gateway: config.gateway, reason }, 'an SMS could not be sent; the outbox tries again later');
        throw new SmsSendError(reason);
      }
      sent.inc({ gateway: config.gateway });
    },
  };
}

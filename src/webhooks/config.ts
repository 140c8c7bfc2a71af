// The webhook settings of the environment, spread into the one schema of src/config.ts.
import { z } from 'zod';

/** The Standard Webhooks schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];

const retrySchedule = z
  .string()
  .transform((text) => text.split(',').map((part) => (/^\s*\d+(\.\d+)?\s*$/.test(part) ? Number(part) : Number.NaN)))
  .pipe(
    z
      .array(z.number({ error: 'every entry must be a number of seconds, e.g. 0,5,300' }).min(0).max(7 * 86_400))
      .min(1)
      .max(50)
      .refine((delays) => delays[0] === 0, 'must start with 0: the first attempt goes out at once'),
  );

export const webhookEnvironment = {
  WEBHOOK_RETRY_SCHEDULE: retrySchedule.optional(),
  WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: z.enum(['0', '1', 'true', 'false']).transform((value) => value === '1' || value === 'true').default(false),
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(60).default(15),
  WEBHOOK_SECRET_OVERLAP_SECONDS: z.coerce.number().min(0).max(30 * 86_400).default(86_400),
  WEBHOOK_POLL_SECONDS: z.coerce.number().min(0.05).max(3600).default(5),
};

export interface WebhookConfig {
  /** Seconds before each attempt: the first (always 0), then after each failure; its length is the number of attempts. */
  retryScheduleSeconds: number[];
  /** True: private, loopback and link-local destinations are allowed (development and tests only). */
  allowPrivateDestinations: boolean;
  /** How long one attempt may take, answer included. */
  timeoutSeconds: number;
  /** How long the secret before a rotation keeps signing beside the new one. */
  secretOverlapSeconds: number;
  /** How often a process looks for due deliveries it was not woken for (other processes' events, retries). */
  pollSeconds: number;
}

export function webhookConfig(values: {
  WEBHOOK_RETRY_SCHEDULE?: number[];
  WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: boolean;
  WEBHOOK_TIMEOUT_SECONDS: number;
  WEBHOOK_SECRET_OVERLAP_SECONDS: number;
  WEBHOOK_POLL_SECONDS: number;
}): WebhookConfig {
  return {
    retryScheduleSeconds: values.WEBHOOK_RETRY_SCHEDULE ?? DEFAULT_RETRY_SCHEDULE_SECONDS,
    allowPrivateDestinations: values.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS,
    timeoutSeconds: values.WEBHOOK_TIMEOUT_SECONDS,
    secretOverlapSeconds: values.WEBHOOK_SECRET_OVERLAP_SECONDS,
    pollSeconds: values.WEBHOOK_POLL_SECONDS,
  };
}

// How SMS leave the service. A real provider implements SmsGateway; the default one records
// each message (in the outbox row itself) and delivers nothing.

export interface SmsGateway {
  /** Sends one SMS; throws when the provider refuses or cannot be reached (the outbox retries). */
  send(message: { to: string; text: string }): Promise<void>;
}

export const recordingGateway: SmsGateway = {
  async send() {
    // Recorded by the outbox as SENT; GET /dev/sms lists them in test mode.
  },
};

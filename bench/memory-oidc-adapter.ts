// The in-memory OAuth2 storage the `tokens` scenario compares the service's database storage
// with; plugged in through createApp's `oidcAdapter` override (see memory-oidc-service.ts).
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { AppOverrides } from '../src/app.js';

/**
 * oidc-provider's storage held in this process's memory, clients still from the Client table
 * and kept like the database store keeps them (the service hands its client directory over).
 * Tokens die with the process and are unknown to other processes: only for measuring what the
 * database storage costs (the `tokens` scenario). With no statement per request to re-check it
 * in, a disabled client keeps working here until its metadata expires from memory.
 */
export const createMemoryOidcAdapter: NonNullable<AppOverrides['oidcAdapter']> = (options) => {
  const { clients } = options;
  const store = new Map<string, { payload: AdapterPayload; expiresAt?: number }>();
  return class MemoryOidcAdapter implements Adapter {
    constructor(private readonly type: string) {}

    private key(id: string) {
      return `${this.type}:${id}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      store.set(this.key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.type === 'Client') return clients.find(id);
      const entry = store.get(this.key(id));
      if (!entry || (entry.expiresAt && entry.expiresAt <= Date.now())) return undefined;
      return entry.payload;
    }

    async findByUserCode(): Promise<undefined> {
      return undefined;
    }

    async findByUid(): Promise<undefined> {
      return undefined;
    }

    async consume(id: string): Promise<void> {
      const entry = store.get(this.key(id));
      if (entry) entry.payload = { ...entry.payload, consumed: Math.floor(Date.now() / 1000) };
    }

    async destroy(id: string): Promise<void> {
      store.delete(this.key(id));
      options.onDestroyed?.(this.type, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      for (const [key, entry] of store) if (entry.payload.grantId === grantId) store.delete(key);
    }
  };
};

// Ids no stored OAuth2 payload or client can have, answered "not found" before any query.
import type { Adapter, AdapterConstructor, AdapterPayload } from 'oidc-provider';

/**
 * PostgreSQL text cannot hold a NUL character: a token or client id carrying one (`token=%00`
 * at introspection or revocation, a client id in Basic credentials) would fail in the query as
 * a 500. No such id was ever issued, so it is simply unknown: oidc-provider then gives the
 * OAuth2 answer it gives for any unknown token or client (inactive, invalid_client…).
 */
export function withoutImpossibleIds(Base: AdapterConstructor): AdapterConstructor {
  return class GuardedAdapter implements Adapter {
    private readonly inner: Adapter;
    constructor(name: string) {
      this.inner = new Base(name);
    }
    upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      return this.inner.upsert(id, payload, expiresIn);
    }
    async find(id: string) {
      return impossible(id) ? undefined : this.inner.find(id);
    }
    async findByUserCode(userCode: string) {
      return impossible(userCode) ? undefined : this.inner.findByUserCode(userCode);
    }
    async findByUid(uid: string) {
      return impossible(uid) ? undefined : this.inner.findByUid(uid);
    }
    async consume(id: string) {
      if (!impossible(id)) await this.inner.consume(id);
    }
    async destroy(id: string) {
      if (!impossible(id)) await this.inner.destroy(id);
    }
    async revokeByGrantId(grantId: string) {
      if (!impossible(grantId)) await this.inner.revokeByGrantId(grantId);
    }
  };
}

function impossible(id: unknown): boolean {
  return typeof id !== 'string' || id.includes('\u0000');
}

import { createHash } from 'node:crypto';
import { CompactSign, importJWK, type JWK } from 'jose';
import type { PrismaClient } from '../generated/prisma/client.js';
import { loadServiceKeys, publicJwkOf } from '../auth/service-keys.js';
import type { DataProtection } from './data-protection.js';

export const EVIDENCE_KEY_PURPOSE = 'evidence';

/** What the signed evidence states; personal data only as a digest. */
export interface EvidenceClaims {
  /** The evidence id. */
  sub: string;
  /** The order's reference id. */
  ref: string;
  method: string;
  issuer: string;
  capabilities: Array<{ jurisdiction: string; loa: string }>;
  identified_at: string;
  valid_until: string;
  /** SHA-256 (base64url) of the canonical JSON of { mobileNumber, subject, document }. */
  personal_data_digest: string;
}

/** A stable JSON form: keys sorted at every level, so the digest does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, entry]) => entry !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function personalDataDigest(personalData: unknown): string {
  return createHash('sha256').update(canonicalJson(personalData)).digest('base64url');
}

export interface EvidenceSigner {
  sign(claims: EvidenceClaims): Promise<string>;
  /** Every evidence key ever used, public parts only, for /.well-known/jwks.json. */
  publicKeys(): Promise<JWK[]>;
}

/**
 * Signs evidence with the newest active evidence key (ES256). Retired keys stay published, so
 * evidence signed before a rotation keeps verifying. With `protection`, the private keys are
 * stored sealed with the data keys (see service-keys.ts).
 */
export function createEvidenceSigner(prisma: PrismaClient, issuer: string, protection?: DataProtection): EvidenceSigner {
  return {
    async sign(claims) {
      const keys = await loadServiceKeys(prisma, EVIDENCE_KEY_PURPOSE, protection);
      const jwk = keys[keys.length - 1] as JWK;
      const key = await importJWK(jwk, 'ES256');
      const payload = { iss: issuer, iat: Math.floor(Date.now() / 1000), ...claims };
      return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
        .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'srs-evidence+jwt' })
        .sign(key);
    },
    async publicKeys() {
      await loadServiceKeys(prisma, EVIDENCE_KEY_PURPOSE, protection);
      const rows = await prisma.serviceKey.findMany({ where: { purpose: EVIDENCE_KEY_PURPOSE }, orderBy: { createdAt: 'asc' } });
      return rows.map((row) => publicJwkOf(row.privateJwk) as JWK);
    },
  };
}

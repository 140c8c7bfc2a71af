// The audit of lookup and verify, written by group commit (src/services/verification-audit.ts):
// many concurrent lookups each leave exactly one audit row and all answer; when the database
// refuses a batch, its requests answer errors at once instead of hanging; several processes on
// one PostgreSQL database each batch their own rows.
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, startTestService, type TestService } from '../kit.js';

let srs: TestService;
beforeAll(async () => {
  // The refused batches log an error per request, as they should; the test output needs none of them.
  srs = await startTestService({ env: { LOG_LEVEL: 'fatal' } });
});
afterAll(async () => {
  await srs?.stop();
});

const LOOKUP = 'query($input: LookupInput!) { lookup(input: $input) { valid reason } }';
const VERIFY = 'query($input: VerifyInput!) { verify(input: $input) { valid reason } }';
type Answer = Awaited<ReturnType<TestService['graphql']>>;

const freshNumber = () => `+4179${randomInt(1_000_000, 10_000_000)}`;

function ask(at: Pick<TestService, 'graphql'>, token: string, index: number): Promise<Answer> {
  const mobileNumber = freshNumber();
  return index % 4 === 3
    ? at.graphql(VERIFY, { variables: { input: { mobileNumber, distinguishedName: { givenNames: 'Max', surname: 'Maximus' } } }, token })
    : at.graphql(LOOKUP, { variables: { input: { mobileNumber } }, token });
}

/** Fails the test instead of hanging when a request never answers. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))]);
}

const auditRows = (at: TestService, clientId: string) =>
  at.service.prisma.verificationAudit.findMany({ where: { clientId }, select: { id: true, operation: true, reason: true, valid: true } });

describe('the verification audit, by group commit', () => {
  it('200 concurrent lookups and verifies all answer, each with exactly one audit row', async () => {
    const client = await srs.createClient('SERVICE_PROVIDER');
    const token = await srs.token(client);
    const count = 200;
    const answers = await within(Promise.all(Array.from({ length: count }, (_, index) => ask(srs, token, index))), 60_000);
    for (const answer of answers) {
      expect(answer.errors).toBeUndefined();
      expect(answer.status).toBe(200);
    }
    const rows = await auditRows(srs, client.clientId);
    expect(rows).toHaveLength(count);
    expect(new Set(rows.map((row) => row.id)).size).toBe(count);
    expect(rows.filter((row) => row.operation === 'VERIFY')).toHaveLength(count / 4);
    expect(rows.every((row) => row.reason === 'NO_EVIDENCE' && !row.valid)).toBe(true);
  });

  it('a batch the database refuses answers its requests with errors, not a hang; the next ones are written', async () => {
    const client = await srs.createClient('SERVICE_PROVIDER');
    const token = await srs.token(client);
    // The only way to make the database refuse the audit rows from outside: a constraint no row meets.
    await srs.service.database.query('ALTER TABLE "VerificationAudit" ADD CONSTRAINT audit_refused_in_test CHECK (false) NOT VALID');
    try {
      const refused = await within(Promise.all(Array.from({ length: 30 }, (_, index) => ask(srs, token, index))), 30_000);
      for (const answer of refused) {
        expect(answer.data ?? null).toBeNull();
        expect(answer.errors?.[0]?.message).toBe('Unexpected error.');
      }
      // No answer without its audit row: nothing was answered, nothing was written.
      expect(await auditRows(srs, client.clientId)).toHaveLength(0);
    } finally {
      await srs.service.database.query('ALTER TABLE "VerificationAudit" DROP CONSTRAINT audit_refused_in_test');
    }
    const after = await within(Promise.all(Array.from({ length: 10 }, (_, index) => ask(srs, token, index))), 30_000);
    for (const answer of after) expect(answer.errors).toBeUndefined();
    expect(await auditRows(srs, client.clientId)).toHaveLength(10);
  });

  it.skipIf(backend !== 'postgres')('two processes on one database: every lookup of both has its one row', async () => {
    const second = await startTestService({ env: { DATABASE_URL: srs.env.DATABASE_URL, DATA_ENCRYPTION_KEYS: srs.env.DATA_ENCRYPTION_KEYS, DATA_HASH_KEY: srs.env.DATA_HASH_KEY } });
    try {
      const client = await srs.createClient('SERVICE_PROVIDER');
      const token = await srs.token(client);
      const answers = await within(
        Promise.all(Array.from({ length: 100 }, (_, index) => ask(index % 2 ? second : srs, token, index))),
        60_000,
      );
      for (const answer of answers) expect(answer.errors).toBeUndefined();
      expect(await auditRows(srs, client.clientId)).toHaveLength(100);
    } finally {
      await second.stop({ keepData: true });
    }
  });
});

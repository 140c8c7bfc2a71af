// The operator's commands, apart from how they are reached: the CLI runs them on a database it
// opened itself, or asks the running embedded server to run them (src/admin/local-socket.ts).
// Each takes checked arguments and returns plain data; printing is the CLI's business.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { DatabaseHandle } from '../db/adapter.js';
import type { Invalidation } from '../events/bus.js';
import { createClient, disableClient, InvalidClientInputError } from '../auth/clients.js';
import { listClients, setClientRateLimit } from '../auth/client-store.js';
import { rotateServiceKey } from '../auth/service-keys.js';
import { EVIDENCE_KEY_PURPOSE } from '../crypto/evidence-signing.js';
import { revokeEvidence } from '../services/evidence-admin.js';
import type { DataProtection } from '../crypto/data-protection.js';

/** What the commands need from whoever runs them. */
export interface AdminContext {
  prisma: PrismaClient;
  database: DatabaseHandle;
  /** Seals new private keys at rest (keys rotate-evidence); asked for only then (it may create the embedded keys). */
  dataProtection(): DataProtection;
  /** Tells the running processes (caches of tokens and clients) that something was invalidated. */
  announce(invalidation: Invalidation): Promise<void>;
}

export type AdminRequest =
  | { command: 'clients create'; name: string; role: string; issuer?: string; scopes?: string[] }
  | { command: 'clients list' }
  | { command: 'clients disable'; clientId: string }
  | { command: 'clients set-rate-limit'; clientId: string; perSecond: number | null }
  | { command: 'evidence revoke'; evidenceId: string; reason: string }
  | { command: 'keys rotate-evidence' };

/** A refusal of the input (an unknown id, a bad role): the operator must change the command. */
export class AdminInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

export const ADMIN_COMMANDS = ['clients create', 'clients list', 'clients disable', 'clients set-rate-limit', 'evidence revoke', 'keys rotate-evidence'] as const;

/** Runs one command; throws AdminInputError for input to refuse. */
export async function runAdminCommand(context: AdminContext, request: AdminRequest): Promise<Record<string, unknown>> {
  const { prisma } = context;
  switch (request.command) {
    case 'clients create': {
      try {
        const { client, clientSecret } = await createClient(prisma, { name: request.name, role: request.role, issuer: request.issuer, scopes: request.scopes });
        return { clientId: client.id, clientSecret, name: client.name, role: client.role, issuer: client.issuer, scopes: client.scopes };
      } catch (error) {
        if (error instanceof InvalidClientInputError) throw new AdminInputError(error.problems);
        throw error;
      }
    }
    case 'clients list': {
      const clients = await listClients(prisma);
      return { clients: clients.map(({ secretHash: _secretHash, ...client }) => client) };
    }
    case 'clients disable': {
      const client = await disableClient(prisma, request.clientId);
      if (!client) throw new AdminInputError([`No client with id ${request.clientId}.`]);
      await context.announce({ kind: 'client', id: client.id });
      return { clientId: client.id, name: client.name };
    }
    case 'clients set-rate-limit': {
      if (!(await setClientRateLimit(prisma, request.clientId, request.perSecond))) throw new AdminInputError([`No client with id ${request.clientId}.`]);
      return { clientId: request.clientId, perSecond: request.perSecond };
    }
    case 'evidence revoke': {
      const revoked = await revokeEvidence(context.database, request.evidenceId, request.reason);
      if (revoked === 'not-found') throw new AdminInputError([`No evidence with id ${request.evidenceId}.`]);
      if (revoked === 'already-revoked') return { evidenceId: request.evidenceId, alreadyRevoked: true };
      return { evidenceId: revoked.id, alreadyRevoked: false, reason: revoked.revocationReason };
    }
    case 'keys rotate-evidence':
      return { keyId: await rotateServiceKey(prisma, EVIDENCE_KEY_PURPOSE, context.dataProtection()) };
  }
}

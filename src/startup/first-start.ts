// What a person starting the service needs to do next, logged once it listens: with no client
// yet, how to create one; in test mode, a ready demo client and the lines to try it.
import type { PrismaClient } from '../generated/prisma/client.js';
import { createClient } from '../auth/clients.js';
import { listOperatorClients } from '../auth/client-store.js';

export const DEMO_CLIENT_NAME = 'Demo service provider (test mode)';

export interface NextStep {
  message: string;
  fields: Record<string, unknown>;
}

/**
 * The hint for this start, or undefined when there is nothing to say (clients exist, no test
 * mode). The demo client's secret is random and shown only when the client is created: it is
 * stored as a hash like every other. Disable the demo client and restart to get a new one.
 */
export async function nextStep(prisma: PrismaClient, options: { testMode: boolean; publicUrl: string }): Promise<NextStep | undefined> {
  const clients = await listOperatorClients(prisma);
  const create = 'npx srs clients create --name "My app" --role SERVICE_PROVIDER';
  const tokenLine = (clientId: string, secret: string) => `TOKEN=$(SRS_CLIENT_SECRET='${secret}' npx srs token ${clientId})`;
  const queryLine = `curl -s ${options.publicUrl}/graphql -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"query":"{ viewer { name role scopes } }"}'`;
  if (options.testMode) {
    const demo = clients.find((client) => client.name === DEMO_CLIENT_NAME && client.enabled);
    if (demo) {
      return {
        message: `Test mode: the demo client ${demo.id} is ready; its secret was shown when it was created (disable it and restart for a new one).`,
        fields: { demoClient: { clientId: demo.id }, next: [tokenLine(demo.id, '…'), queryLine] },
      };
    }
    const { client, clientSecret } = await createClient(prisma, { name: DEMO_CLIENT_NAME, role: 'SERVICE_PROVIDER' });
    const curlToken = `curl -s -u '${client.id}:${clientSecret}' -d grant_type=client_credentials ${options.publicUrl}/oidc/token`;
    return {
      message: `Test mode: created the demo client ${client.id}; its secret is shown this once. Get a token and try a query with the lines in "next".`,
      fields: { demoClient: { clientId: client.id, clientSecret }, next: [tokenLine(client.id, clientSecret), queryLine, curlToken] },
    };
  }
  if (clients.length) return undefined;
  return {
    message: `No clients yet. Next step: create one while the service runs with: ${create}; then get a token with: npx srs token CLIENT_ID (secret in SRS_CLIENT_SECRET).`,
    fields: { next: [create, tokenLine('CLIENT_ID', 'SECRET'), queryLine] },
  };
}

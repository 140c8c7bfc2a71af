// The HTTP-level test kit: a real service on a free port, on a fresh embedded folder or a fresh
// PostgreSQL database, with helpers to create clients, get tokens and send GraphQL.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { expect } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startService, type RunningService } from '../src/server.js';
import { createClient } from '../src/auth/clients.js';
import type { PlaceOrderInput } from './generated/graphql.js';
import { PlaceOrderBriefMutation, ReportStatusBriefMutation } from './documents.js';

export const backend = (process.env.SRS_TEST_BACKEND ?? 'pglite') as 'pglite' | 'postgres';

/** The global id of a catalogue method, e.g. methodGlobalId('test-video'). */
export function methodGlobalId(catalogueId: string): string {
  return Buffer.from(`IdentificationMethod:${catalogueId}`).toString('base64');
}

export interface TestClient {
  clientId: string;
  clientSecret: string;
}

export interface GraphQLResponse<Data> {
  status: number;
  data?: Data | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string } & Record<string, unknown> }>;
}

export interface TestService {
  service: RunningService;
  /** The base URL, e.g. http://127.0.0.1:43210 (equal to PUBLIC_URL). */
  url: string;
  /** The environment the service was started with, for starting a CLI against the same data. */
  env: Record<string, string>;
  createClient(role: 'SERVICE_PROVIDER' | 'IPSP' | 'ADMIN', options?: { issuer?: string; scopes?: string[]; name?: string }): Promise<TestClient>;
  /** POST /oidc/token with client_credentials; returns the parsed response and status. */
  requestToken(client: TestClient, scope?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** A fresh access token for the client, failing the test when none is issued. */
  token(client: TestClient, scope?: string): Promise<string>;
  graphql<Data, Variables>(
    document: TypedDocumentNode<Data, Variables> | string,
    options?: { variables?: Variables; token?: string | null; headers?: Record<string, string> },
  ): Promise<GraphQLResponse<Data>>;
  /** Stops the service; with `keepData` the data stays for a restart on the same env. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/** What talking to a running service over HTTP needs: its address, tokens and GraphQL. */
export type ServiceEndpoint = Pick<TestService, 'url' | 'requestToken' | 'token' | 'graphql'>;

/** HTTP helpers for the service at `url` (in this process or another one). */
export function endpointAt(url: string): ServiceEndpoint {
  const requestToken: TestService['requestToken'] = async (client, scope) => {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope !== undefined) form.set('scope', scope);
    const response = await fetch(`${url}/oidc/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: form,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return {
    url,
    requestToken,
    async token(client, scope) {
      const { status, body } = await requestToken(client, scope);
      if (status !== 200 || typeof body.access_token !== 'string') throw new Error(`No token (${status}): ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async graphql(document, requestOptions = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...requestOptions.headers };
      if (requestOptions.token) headers.authorization = `Bearer ${requestOptions.token}`;
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: typeof document === 'string' ? document : print(document), variables: requestOptions.variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResponse<never>, 'status'>;
      return { status: response.status, ...body };
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A fresh empty database for this run: a temporary folder, or a new PostgreSQL database. */
export async function freshDatabaseEnv(): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (backend === 'postgres') {
    const adminUrl = process.env.TEST_DATABASE_URL;
    if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set: it must name a PostgreSQL database to create test databases from.');
    // Named after the admin database, so a CI run can drop whatever a crashed test left behind.
    const name = `${new URL(adminUrl).pathname.slice(1)}_t${randomBytes(6).toString('hex')}`.slice(0, 63);
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return {
      // A server deployment must bring its own keys for personal data at rest.
      env: {
        DATABASE_URL: url.toString(),
        DATA_ENCRYPTION_KEYS: `t1:${randomBytes(32).toString('base64')}`,
        DATA_HASH_KEY: randomBytes(32).toString('base64'),
      },
      async drop() {
        const client = new pg.Client({ connectionString: adminUrl });
        await client.connect();
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await client.end();
      },
    };
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'srs-test-'));
  return { env: { DATA_DIR: dataDir }, drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
}

export async function startTestService(options: { testMode?: boolean; env?: Record<string, string> } = {}): Promise<TestService> {
  // An env that names its own database restarts on it; otherwise each service gets a fresh one.
  const database = options.env?.DATA_DIR || options.env?.DATABASE_URL ? undefined : await freshDatabaseEnv();
  const port = await freePort();
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    SRS_TEST_MODE: options.testMode === false ? '0' : '1',
    // Request logs of hundreds of tests would bury the test output; errors still show.
    LOG_LEVEL: 'error',
    ...database?.env,
    ...options.env,
  };
  const service = await startService(loadConfig(env));
  const url = env.PUBLIC_URL;
  const endpoint = endpointAt(url);

  return {
    ...endpoint,
    service,
    env,
    async createClient(role, clientOptions = {}) {
      const { client, clientSecret } = await createClient(service.prisma, {
        name: clientOptions.name ?? `${role} ${randomBytes(3).toString('hex')}`,
        role,
        issuer: clientOptions.issuer,
        scopes: clientOptions.scopes,
      });
      return { clientId: client.id, clientSecret };
    },
    async stop(stopOptions = {}) {
      await service.close();
      if (!stopOptions.keepData) await database?.drop();
    },
  };
}

// ---- shared GraphQL steps --------------------------------------------------------------------

/** A fresh access token of a new service provider client. */
export async function spToken(srs: TestService): Promise<string> {
  return srs.token(await srs.createClient('SERVICE_PROVIDER'));
}

/** placeOrder that must succeed: no GraphQL error, no user error; the order's brief view. */
export async function placeOrderBrief(srs: Pick<ServiceEndpoint, 'graphql'>, token: string, input: PlaceOrderInput) {
  const response = await srs.graphql(PlaceOrderBriefMutation, { variables: { input }, token });
  expect(response.errors).toBeUndefined();
  expect(response.data!.placeOrder.userErrors).toEqual([]);
  return response.data!.placeOrder.order!;
}

/** The partner (IPSP) reports a status that must be accepted and become the order's status. */
export async function reportStatus(srs: Pick<ServiceEndpoint, 'graphql'>, ipspToken: string, refId: string, status: 'IDENTIFICATION_DONE' | 'DATA_READY'): Promise<void> {
  const response = await srs.graphql(ReportStatusBriefMutation, { variables: { input: { refId, status } }, token: ipspToken });
  expect(response.errors).toBeUndefined();
  expect(response.data!.reportIdentificationStatus.userErrors).toEqual([]);
  expect(response.data!.reportIdentificationStatus.order!.status).toBe(status);
}

// ---- the operator CLI ------------------------------------------------------------------------

const ROOT = path.resolve(import.meta.dirname, '..');
export const CLI_TIMEOUT_MS = 60_000;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `npx tsx src/cli.ts ...args` with the given env on top of this process's env, as an operator would. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'npx',
      ['tsx', 'src/cli.ts', ...args],
      {
        cwd: ROOT,
        // DATABASE_URL is cleared unless the database env sets it, so a stray one cannot redirect the CLI.
        env: { ...process.env, DATABASE_URL: '', ...env },
        timeout: CLI_TIMEOUT_MS,
        maxBuffer: 10 * 1024 * 1024,
      },
      (error, stdout, rawStderr) => {
        // npx's own warnings about the machine's npm configuration are not the CLI's output.
        const stderr = rawStderr.replace(/^npm warn .*\n?/gim, '');
        if (!error) return resolve({ code: 0, stdout, stderr });
        if (typeof error.code === 'number') return resolve({ code: error.code, stdout, stderr });
        const why = error.killed ? `timed out after ${CLI_TIMEOUT_MS} ms` : error.message;
        reject(new Error(`The CLI (${args.join(' ')}) ${why}:\n${stderr}`));
      },
    );
  });
}

/** RFC 7009 revocation of a token by its client; the HTTP status. */
export async function revokeToken(at: Pick<ServiceEndpoint, 'url'>, client: TestClient, token: string): Promise<number> {
  const response = await fetch(`${at.url}/oidc/token/revocation`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  });
  await response.body?.cancel();
  return response.status;
}

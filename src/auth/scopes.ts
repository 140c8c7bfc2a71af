// OAuth2 scopes and what each role may be granted. Plain data: no GraphQL, no Prisma.

export const SCOPES = {
  'methods:read': 'List the identification methods.',
  'orders:read': 'Read and follow the caller’s orders.',
  'orders:write': 'Place and cancel orders.',
  verify: 'Verify and look up mobile numbers.',
  billing: 'Read the billing report.',
  ipsp: 'Act as an identity-proofing partner: report status, import evidence, introspect order tokens.',
  admin: 'Operate the service.',
} as const;
export type Scope = keyof typeof SCOPES;
export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];

export const CLIENT_ROLES = ['SERVICE_PROVIDER', 'IPSP', 'ADMIN'] as const;
export type ClientRole = (typeof CLIENT_ROLES)[number];

/** The scopes a client of each role may hold; a new client gets all of them unless told otherwise. */
export const SCOPES_BY_ROLE: Record<ClientRole, Scope[]> = {
  SERVICE_PROVIDER: ['methods:read', 'orders:read', 'orders:write', 'verify', 'billing'],
  IPSP: ['methods:read', 'ipsp'],
  ADMIN: ALL_SCOPES,
};

/** Roles whose clients may use token introspection (RFC 7662). */
export const INTROSPECTING_ROLES: readonly ClientRole[] = ['IPSP', 'ADMIN'];

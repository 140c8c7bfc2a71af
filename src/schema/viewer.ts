import { builder } from './builder.js';
import type { Viewer } from '../auth/viewer.js';
import { CLIENT_ROLES } from '../auth/scopes.js';

export const ClientRoleEnum = builder.enumType('ClientRole', {
  description: 'What an OAuth2 client is to the service.',
  values: {
    SERVICE_PROVIDER: { description: 'A business that sends its users through identification.' },
    IPSP: { description: 'An identity-proofing partner serving one issuer’s orders.' },
    ADMIN: { description: 'An operator of the service.' },
  } satisfies Record<(typeof CLIENT_ROLES)[number], unknown>,
});

const ViewerType = builder.objectRef<Viewer>('Viewer').implement({
  description: 'The OAuth2 client that made the request.',
  fields: (t) => ({
    clientId: t.exposeString('clientId', { description: 'The OAuth2 client_id.' }),
    name: t.exposeString('name', { description: 'The name the operator gave the client.' }),
    role: t.field({ type: ClientRoleEnum, description: 'What the client is to the service.', resolve: (viewer) => viewer.role }),
    scopes: t.exposeStringList('scopes', { description: 'The scopes of the token used for this request.' }),
    issuer: t.exposeString('issuer', { nullable: true, description: 'Set for IPSP clients: the issuer whose orders they serve.' }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerType,
    description: 'The client behind the bearer token of this request.',
    resolve: (_root, _args, context) => context.viewer,
  }),
);

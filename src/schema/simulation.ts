import { builder } from './builder.js';
import { OrderPayload, orderPayload } from './orders.js';

const SimulatedOutcomeEnum = builder.enumType('SimulatedOutcome', {
  description: 'How a simulated identification of the TEST issuer ends.',
  values: {
    SUCCESS: { description: 'Identified: the evidence is built from the order’s initial data and imported (TERMINATED).' },
    NEGATIVELY_CONDUCTED: { description: 'The identification fails.' },
    ERROR: { description: 'A technical error.' },
    TIMEOUT: { description: 'Not finished in time.' },
    CANCELED: { description: 'The user cancels.' },
    ABORTED: { description: 'The user leaves and may come back.' },
  },
});

const SimulateIdentificationInput = builder.inputType('SimulateIdentificationInput', {
  description: 'The outcome to simulate for a TEST order.',
  fields: (t) => ({
    refId: t.id({ required: true, description: 'The order’s reference id.' }),
    outcome: t.field({ type: SimulatedOutcomeEnum, required: true, description: 'How the identification ends.' }),
    reason: t.string({ description: 'The reason the partner gives, kept verbatim.' }),
  }),
});

const SimulateIdentificationPayload = OrderPayload(
  'SimulateIdentificationPayload',
  'The order after the simulated identification, or why it could not be simulated.',
);

builder.mutationField('simulateIdentification', (t) =>
  t.field({
    type: SimulateIdentificationPayload,
    description: 'Test mode only, for orders of the TEST issuer: the TEST partner concludes the identification as if a tester used its page.',
    authScopes: { scope: 'orders:write' },
    args: { input: t.arg({ type: SimulateIdentificationInput, required: true }) },
    resolve: async (_root, { input }, context) =>
      orderPayload(await context.app.simulation.simulateIdentification(context.viewer, { ...input, refId: String(input.refId) })),
  }),
);

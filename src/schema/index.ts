import { builder } from './builder.js';
import './scalars.js';
import './user-errors.js';
import './viewer.js';
import './methods.js';
import './orders.js';
import './evidence.js';
import './ipsp.js';
import './subscriptions.js';
import './simulation.js';
import './terms.js';
import './verification.js';
import './webhooks.js';
import './statistics.js';

export const schema = builder.toSchema();

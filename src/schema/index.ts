import { builder } from './builder.js';
import './viewer.js';
import './methods.js';

export const schema = builder.toSchema();

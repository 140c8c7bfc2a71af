import { builder } from './builder.js';
import { USER_ERROR_CODES, type UserError } from '../domain/user-errors.js';

export const UserErrorCodeEnum = builder.enumType('UserErrorCode', {
  description: 'Why an input was refused.',
  values: {
    INVALID_INPUT: { description: 'A value is malformed or out of range.' },
    MISSING_MANDATORY_ATTRIBUTE: { description: 'The chosen method needs this attribute.' },
    ATTRIBUTE_NOT_ACCEPTED: { description: 'The chosen method does not accept this attribute.' },
    METHOD_NOT_FOUND: { description: 'No method has this id.' },
    METHOD_UNAVAILABLE: { description: 'The method exists but cannot be used now (disabled, or TEST outside test mode).' },
    ORDER_NOT_FOUND: { description: 'No order with this reference id is yours.' },
    ILLEGAL_TRANSITION: { description: 'The order’s current status does not allow this.' },
    IDEMPOTENCY_CONFLICT: { description: 'The idempotency key was used before with other input.' },
    FORBIDDEN: { description: 'Your client may not do this to this object.' },
    INVALID_URL: { description: 'The URL is not an http(s) URL this service may call (e.g. a private or loopback address).' },
    NOT_FOUND: { description: 'No object with this id is yours.' },
  } satisfies Record<(typeof USER_ERROR_CODES)[number], unknown>,
});

export const UserErrorType = builder.objectRef<UserError>('UserError').implement({
  description: 'An expected refusal of an input, with what to fix.',
  fields: (t) => ({
    field: t.exposeStringList('field', { nullable: true, description: 'Path to the input field at fault, e.g. ["input", "initialData", "surname"].' }),
    message: t.exposeString('message', { description: 'What is wrong, for a developer to read.' }),
    code: t.field({ type: UserErrorCodeEnum, description: 'What is wrong, for a program to act on.', resolve: (error) => error.code }),
  }),
});

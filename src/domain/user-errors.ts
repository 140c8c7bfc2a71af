// Expected failures, returned to callers as `userErrors` instead of thrown.

export const USER_ERROR_CODES = [
  'INVALID_INPUT',
  'MISSING_MANDATORY_ATTRIBUTE',
  'ATTRIBUTE_NOT_ACCEPTED',
  'METHOD_NOT_FOUND',
  'METHOD_UNAVAILABLE',
  'ORDER_NOT_FOUND',
  'ILLEGAL_TRANSITION',
  'IDEMPOTENCY_CONFLICT',
  'FORBIDDEN',
  'INVALID_URL',
  'NOT_FOUND',
] as const;
export type UserErrorCode = (typeof USER_ERROR_CODES)[number];

export interface UserError {
  /** Path to the input field at fault, e.g. ["input", "initialData", "surname"]. */
  field: string[] | null;
  message: string;
  code: UserErrorCode;
}

export function userError(code: UserErrorCode, message: string, field: string[] | null = null): UserError {
  return { code, message, field };
}

/** A domain outcome: the value, or the reasons it could not be had. */
export type Result<T> = { ok: true; value: T } | { ok: false; errors: UserError[] };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const failed = <T = never>(...errors: UserError[]): Result<T> => ({ ok: false, errors });

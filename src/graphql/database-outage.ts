import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError, type YogaServerOptions } from 'graphql-yoga';
import { isDatabaseUnavailable, serviceUnavailableError } from '../db/availability.js';

type MaskError = Extract<NonNullable<YogaServerOptions<object, object>['maskedErrors']>, object>['maskError'] & {};

/**
 * yoga's error masking, except that an error caused by the database being unreachable becomes
 * SERVICE_UNAVAILABLE with HTTP 503 and Retry-After: a client knows to send the request again,
 * where a masked 500 "Unexpected error." tells it nothing. Anything else is masked as before.
 */
export const maskDatabaseOutage: MaskError = (error, message, isDev) => {
  if (isDatabaseUnavailable(error)) {
    const unavailable = serviceUnavailableError();
    if (!(error instanceof GraphQLError)) return unavailable;
    return new GraphQLError(unavailable.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions: unavailable.extensions });
  }
  return yogaMaskError(error, message, isDev);
};

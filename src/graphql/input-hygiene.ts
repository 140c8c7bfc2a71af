// Input no part of the service can store: refused once, for every operation, before it runs.
import { GraphQLError, type ASTVisitor, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * PostgreSQL text cannot hold a NUL character (U+0000): a string carrying one, in any argument
 * (refId, externalId, idempotencyKey, a reason…), would fail deep in a query as a 500. It is
 * refused here instead, as BAD_USER_INPUT, whether written in the document or sent as a variable,
 * over HTTP or WebSocket (both run through this envelop chain).
 */
export function useNoNulCharacters(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(noNulInLiterals);
    },
    onExecute({ args, setResultAndStopExecution }) {
      const path = nulPath(args.variableValues);
      if (path !== undefined) setResultAndStopExecution({ errors: [nulVariableError(path)] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const path = nulPath(args.variableValues);
      if (path !== undefined) setResultAndStopExecution({ errors: [nulVariableError(path)] });
    },
  };
}

function noNulInLiterals(context: ValidationContext): ASTVisitor {
  return {
    StringValue(node) {
      if (node.value.includes('\u0000')) {
        context.reportError(new GraphQLError('A string must not contain the NUL character (U+0000).', { nodes: [node], extensions: { code: 'BAD_USER_INPUT' } }));
      }
    },
  };
}

function nulVariableError(path: string): GraphQLError {
  return new GraphQLError(`Variable "$${path}" must not contain the NUL character (U+0000).`, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
}

/** The path of the first string holding a NUL (a key counts too), or undefined. */
export function nulPath(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = nulPath(value[index], `${path}[${index}]`);
      if (found !== undefined) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const itemPath = path ? `${path}.${key}` : key;
      if (key.includes('\u0000')) return itemPath;
      const found = nulPath(item, itemPath);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * A request yoga cannot read (GET /graphql?variables=notjson: yoga's parser lets JSON.parse's
 * SyntaxError escape, a masked 500) is the client's fault: 400 BAD_USER_INPUT with a message.
 * Must come before the request body limit, which wraps whatever parser is set before it.
 */
export function useReadableRequests(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
          throw new GraphQLError(`The request could not be read: ${error.message}. Send the query, variables and extensions as JSON.`, {
            extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
          });
        }
      });
    },
  };
}

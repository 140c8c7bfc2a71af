// Input no part of the service can store: refused once, for every operation, before it runs.
import { GraphQLError, type ASTVisitor, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * PostgreSQL text cannot hold a NUL character (U+0000), nor a lone UTF-16 surrogate (JSON can
 * carry "\ud800", UTF-8 cannot): a string carrying one, in any argument (refId, externalId,
 * idempotencyKey, a reason…), would fail deep in a query as a 500. It is refused here instead,
 * as BAD_USER_INPUT, whether written in the document or sent as a variable, over HTTP or
 * WebSocket (both run through this envelop chain).
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
      if (unstorable(node.value)) {
        context.reportError(new GraphQLError(UNSTORABLE_MESSAGE, { nodes: [node], extensions: { code: 'BAD_USER_INPUT' } }));
      }
    },
  };
}

const UNSTORABLE_MESSAGE = 'A string must not contain the NUL character (U+0000) or an unpaired surrogate (\\ud800-\\udfff).';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether PostgreSQL could not store this text (String.prototype.isWellFormed is ES2024). */
function unstorable(text: string): boolean {
  return text.includes('\u0000') || LONE_SURROGATE.test(text);
}

function nulVariableError(path: string): GraphQLError {
  return new GraphQLError(`Variable "$${path}": ${UNSTORABLE_MESSAGE.replace(/^A string/, 'its strings')}`, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
}

/** The path of the first string PostgreSQL could not store (a key counts too), or undefined. */
export function nulPath(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return unstorable(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = nulPath(value[index], `${path}[${index}]`);
      if (found !== undefined) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const itemPath = path ? `${path}.${key}` : key;
      if (unstorable(key)) return itemPath;
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

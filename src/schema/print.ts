import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './index.js';

/** The schema as committed in schema/schema.graphql: sorted, so the file diffs cleanly. */
export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

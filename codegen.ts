import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents for the tests, generated from the printed schema (not from the code), so the
// tests exercise the contract as clients see it.
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['test/**/*.ts', '!test/generated/**'],
  ignoreNoDocuments: true,
  generates: {
    'test/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      // NodeNext resolution (tsconfig) needs the .js extension on the generated relative imports.
      config: { useTypeImports: true, enumsAsTypes: true, importExtension: '.js', scalars: { DateTime: 'string', Date: 'string' } },
    },
  },
};

export default config;

// ESLint flat config: type-aware rules plus the architectural boundaries of SECURITY.md §8 (crypto only in shared/crypto, no node:* in shared/,
// SQL only in repositories, no node:crypto or cast JSON in services and routes, server code never imports client/ or e2e/, migrations import only kysely).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import pluginQuery from '@tanstack/eslint-plugin-query';
import globals from 'globals';

// shared/tsconfig.json compiles shared/ with WebWorker's library (the web platform without the DOM): these globals it
// declares exist in browsers only.
const domOnlyGlobals = ['window', 'document', 'localStorage', 'sessionStorage', 'indexedDB', 'navigator', 'location', 'alert', 'self', 'importScripts', 'postMessage', 'caches'].map(
  (name) => ({ name, message: 'shared/ runs in browsers and Node alike: no DOM-only globals.' }),
);

const cryptoOnlyInSharedCrypto = {
  paths: [
    { name: 'hash-wasm', message: 'Only shared/crypto may use hash-wasm.' },
  ],
};

// The tampering proxy of the malicious-server suite (e2e/support/evil-proxy.ts, evil-fixture.ts) is test-only:
// nothing under server/, client/, shared/ or migrations/ may import it, so no production setting can enable it.
const noEvilProxy = ['ImportDeclaration', 'ImportExpression', 'ExportAllDeclaration', 'ExportNamedDeclaration'].map((node) => ({
  selector: `${node}[source.value=/e2e\\/support\\/evil-/]`,
  message: 'Production code never imports the tampering proxy of the malicious-server suite (e2e/support/evil-*).',
}));

// Server code (the bench and test helpers included) never imports the browser app or the e2e suite; e2e may import server/test.
const serverImportPatterns = [
  { group: ['**/client/**'], message: 'Server code never imports client/ code: shared code lives in shared/ (the typed API client in shared/api).' },
  { group: ['**/e2e/**'], message: 'Server code (bench included) never imports e2e/ code: helpers both use live in server/test.' },
];

// Services and routes hash and verify through shared/crypto, as browsers do.
const noNodeCrypto = ['node:crypto', 'crypto'].map((name) => ({
  name,
  message: 'Services and routes use shared/crypto (sha256, fingerprints...), not node:crypto; random ids come from server/lib/ids.',
}));

// What a browser or the database hands a service is parsed with its schema, never cast.
const noCastJsonParse = {
  // `JSON.parse(text) as T`, and the same through `as unknown as T`.
  selector: [
    "TSAsExpression[expression.type='CallExpression'][expression.callee.object.name='JSON'][expression.callee.property.name='parse']:not([typeAnnotation.type='TSUnknownKeyword'])",
    "TSAsExpression[expression.type='TSAsExpression'][expression.expression.type='CallExpression'][expression.expression.callee.object.name='JSON'][expression.expression.callee.property.name='parse']",
  ].join(', '),
  message: 'Parse JSON with its zod schema (schema.parse(JSON.parse(text)), parseSigned for signed statements), never with a cast.',
};

// SQL lives in server/repositories and server/db (migrations apart): services call repository functions.
const noQueryBuilding = [
  {
    selector: "CallExpression[callee.property.name=/^(selectFrom|selectNoFrom|insertInto|replaceInto|updateTable|deleteFrom|mergeInto)$/]",
    message: 'Services build no queries: SQL lives in server/repositories (call or add a repository function).',
  },
  { selector: "TaggedTemplateExpression[tag.name='sql'], MemberExpression[object.name='sql']", message: 'Services write no SQL: it lives in server/repositories.' },
];

export default tseslint.config(
  { ignores: ['dist/', 'data/', 'node_modules/', 'coverage/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.browser, ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'crypto', property: 'subtle', message: 'Only shared/crypto may touch crypto.subtle.' },
        { object: 'globalThis', property: 'crypto', message: 'Use shared/crypto.' },
      ],
      'no-restricted-imports': ['error', cryptoOnlyInSharedCrypto],
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  // shared/: portable between browsers and Node, no DOM and no node:*.
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', ...domOnlyGlobals],
      'no-restricted-imports': [
        'error',
        {
          ...cryptoOnlyInSharedCrypto,
          patterns: [
            { group: ['node:*'], message: 'shared/ must run unchanged in browsers: no node:* imports.' },
            { group: ['**/server/**', '**/client/**'], message: 'shared/ depends on nothing above it.' },
          ],
        },
      ],
    },
  },
  {
    files: ['shared/crypto/**/*.ts'],
    rules: {
      'no-restricted-properties': 'off',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'shared/ must run unchanged in browsers: no node:* imports.' },
            { group: ['**/server/**', '**/client/**'], message: 'shared/ depends on nothing above it.' },
          ],
        },
      ],
    },
  },
  // Tests of shared/ run under Vitest in Node: like every test, they take their time budgets from server/test/budget.ts.
  ...[
    { files: ['shared/**/*.test.ts'], paths: cryptoOnlyInSharedCrypto.paths },
    { files: ['shared/crypto/**/*.test.ts'], paths: [] },
  ].map(({ files, paths }) => ({
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths,
          patterns: [
            { group: ['node:*'], message: 'shared/ must run unchanged in browsers: no node:* imports.' },
            { regex: '(^|/)(client/|server/(?!test/budget$))', message: 'shared/ depends on nothing above it (its tests may take budget() from server/test/budget).' },
          ],
        },
      ],
    },
  })),
  // The browser never runs the OPAQUE server and never imports server code except as types.
  {
    files: ['client/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks, '@tanstack/query': pluginQuery },
    rules: {
      'no-restricted-globals': [
        'error',
        ...['localStorage', 'sessionStorage', 'indexedDB'].map((name) => ({
          name,
          message: 'Browser storage is off limits: keys, passwords and plaintext live only in memory (SECURITY.md 1.1).',
        })),
      ],
      ...reactHooks.configs.recommended.rules,
      ...pluginQuery.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          ...cryptoOnlyInSharedCrypto,
          paths: [
            ...cryptoOnlyInSharedCrypto.paths,
            { name: '@serenity-kit/opaque', message: 'The OPAQUE client lives in shared/crypto.' },
          ],
          patterns: [
            { group: ['node:*'], message: 'Browser code: no node:* imports.' },
            { group: ['**/server/**'], message: 'The client imports server code only as types.', allowTypeImports: true },
          ],
        },
      ],
    },
  },
  // Tests of browser code run in Node against a real server: they may use node:* and the server's test helpers.
  {
    files: ['client/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { ...cryptoOnlyInSharedCrypto, paths: [...cryptoOnlyInSharedCrypto.paths, { name: '@serenity-kit/opaque', message: 'The OPAQUE client lives in shared/crypto.' }] }],
    },
  },
  {
    files: ['server/**/*.ts', 'client/**/*.{ts,tsx}', 'shared/**/*.ts', 'migrations/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...noEvilProxy] },
  },
  {
    files: ['server/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { ...cryptoOnlyInSharedCrypto, patterns: serverImportPatterns }] },
  },
  // Routes validate, call one service and respond: no database access.
  {
    files: ['server/routes/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...cryptoOnlyInSharedCrypto,
          paths: [...cryptoOnlyInSharedCrypto.paths, ...noNodeCrypto, { name: 'kysely', message: 'Routes never touch the database: call a service.' }],
          patterns: [...serverImportPatterns, { group: ['**/repositories/**', '**/db/**'], message: 'Routes never touch the database: call a service.', allowTypeImports: true }],
        },
      ],
      'no-restricted-syntax': ['error', ...noEvilProxy, noCastJsonParse],
    },
  },
  // Services hold the rules and call repositories inside their transactions: no SQL, no node:crypto, no casts of parsed JSON.
  {
    files: ['server/services/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...cryptoOnlyInSharedCrypto,
          paths: [
            ...cryptoOnlyInSharedCrypto.paths,
            ...noNodeCrypto,
            { name: 'kysely', message: 'Services write no SQL: it lives in server/repositories (types only, e.g. Transaction, are fine).', allowTypeImports: true },
          ],
          patterns: serverImportPatterns,
        },
      ],
      'no-restricted-syntax': ['error', ...noEvilProxy, noCastJsonParse, ...noQueryBuilding],
    },
  },
  // Migrations are frozen in time: they import only kysely (the index lists its siblings).
  {
    files: ['migrations/**/*.ts'],
    ignores: ['migrations/index.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['*', '!kysely'], message: 'Migrations import only kysely.' }] }],
    },
  },
);

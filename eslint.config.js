// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Layers may only import inward: faces → gatekeeper → core.
 * @param {string[]} patterns
 * @param {string} message
 */
const forbid = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message })) }],
});

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'coverage/**',
      'dist/**',
      'scripts/kafka/**',
      'src/observe/ui/assets/**',
      'test/fixtures/consumer/**',
      'examples/*/node_modules/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', 'bin/*.mjs', 'bench/*.mjs', 'scripts/*.mjs', 'test/fixtures/*.mjs'],
        },
      },
    },
    rules: {
      // TypeScript already resolves every identifier (including Node globals in .mjs files).
      'no-undef': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // An example is a project of its own (its tsconfig.json resolves `gatekeeper` from its own
    // install); linted here with the repository's tsconfig, which maps the name to the sources.
    files: ['examples/**'],
    languageOptions: {
      parserOptions: {
        projectService: false,
        project: './tsconfig.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['src/core/**'],
    rules: forbid(
      [
        '**/gatekeeper/**',
        '**/store/**',
        '**/kafka/**',
        '**/cli/**',
        '**/observe/**',
        'ioredis',
        'kafkajs',
        'node:*',
      ],
      'src/core is pure: no adapters, faces or I/O.',
    ),
  },
  {
    files: ['src/gatekeeper/**'],
    rules: forbid(
      ['**/store/memory*', '**/store/redis/**', '**/kafka/**', '**/cli/**', 'ioredis', 'kafkajs'],
      'The gatekeeper depends on the store port only, never on an adapter or a face.',
    ),
  },
  {
    files: ['machines/**'],
    rules: forbid(
      ['**/src/**', 'ioredis', 'kafkajs', 'node:*'],
      'machines/ is user-land: XState and zod only.',
    ),
  },
);

import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.jest } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Imports go one way: routes → controllers → services → models and integrations.
    files: ['src/controllers/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../models', '../models/*'], message: 'Controllers call services, not models.' }] }],
    },
  },
  {
    files: ['src/services/**/*.ts', 'src/models/**/*.ts', 'src/jobs/**/*.ts', 'src/integrations/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'express', message: 'Only routes, controllers and middleware know about HTTP.' }],
          patterns: [{ group: ['../controllers/*', '../routes/*', '../middleware/*'], message: 'Imports go one way: routes → controllers → services.' }],
        },
      ],
    },
  },
  {
    files: ['tests/**/*.js', 'tests/**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);

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
    // Only the HTTP edge knows Express; the import graph itself is checked by dependency-cruiser (npm run lint:deps).
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.routes.ts', 'src/**/*.controller.ts', 'src/**/*.middleware.ts', 'src/platform/http/**', 'src/app.ts', 'src/api-router.ts', 'src/server.ts', 'src/types/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'express', message: 'Only routes, controllers and middleware know about HTTP.' }] }],
    },
  },
  {
    files: ['tests/**/*.js', 'tests/**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);

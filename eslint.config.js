// ESLint (flat config) for capbench's TypeScript: typescript-eslint's type-checked recommended
// rules over the files tsconfig.json compiles, and ESLint's recommended rules over the few plain
// JavaScript files. `npm run lint:ts` runs it, then prettier's check of the format
// (.prettierrc.json); `npm run lint` adds the C check.
// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // Build output, the addon's build tree, dependencies and bench:ci's results.
  { ignores: ['dist/', 'build/', 'node_modules/', 'perf/', 'perf-base-checkout/'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Leaving out keys by destructuring ({ a, ...rest }) is how the code copies an object without
      // some fields; tsc's noUnusedLocals, which the build enforces, allows it too.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);

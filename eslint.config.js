// Lint: recommended rules everywhere; Web-standard code only in protocol, core, edge and webhooks, which
// run unchanged in Node, browsers and edge runtimes; no Node in the browser package.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const nodeBuiltins = ['node:*', 'fs', 'fs/*', 'path', 'os', 'crypto', 'http', 'https', 'net', 'stream', 'stream/*',
  'buffer', 'events', 'util', 'zlib', 'child_process', 'worker_threads', 'url', 'timers', 'timers/*', 'process']

const nodeGlobals = ['process', 'Buffer', 'require', '__dirname', '__filename', 'global', 'setImmediate']

const webStandardGlobals = Object.fromEntries(
  ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'crypto', 'fetch',
    'TextEncoder', 'TextDecoder', 'AbortController', 'AbortSignal', 'Response', 'Request', 'Headers',
    'URL', 'URLSearchParams', 'structuredClone', 'console', 'globalThis', 'performance']
    .map((name) => [name, 'readonly']),
)

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '.bench/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['packages/protocol/src/**/*.ts', 'packages/core/src/**/*.ts', 'packages/edge/src/**/*.ts', 'packages/webhooks/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    languageOptions: { globals: webStandardGlobals },
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: nodeBuiltins, message: 'protocol, core, edge and webhooks are runtime-neutral: Web-standard APIs only.' }],
      }],
      'no-restricted-globals': ['error',
        ...[...nodeGlobals, 'window', 'document', 'navigator', 'localStorage', 'indexedDB'].map((name) => ({
          name, message: 'protocol, core, edge and webhooks are runtime-neutral: Web-standard APIs only.',
        })),
      ],
    },
  },
  {
    // Pages of the examples run in browsers.
    files: ['examples/*/public/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // The console and the portal run in browsers (built by collector/scripts/build-console.mjs).
    files: ['collector/console-ui/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: nodeBuiltins, message: 'the console runs in browsers: no Node built-ins.' }] }],
    },
  },
  {
    // The browser package may use the DOM, never Node.
    files: ['packages/browser/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: nodeBuiltins, message: 'the browser package has no Node built-ins.' }] }],
      'no-restricted-globals': ['error', ...nodeGlobals.map((name) => ({ name, message: 'the browser package has no Node globals.' }))],
    },
  },
)

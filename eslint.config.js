// Lint: recommended rules everywhere, and Web-standard code only in protocol and core, which
// run unchanged in Node, browsers and edge runtimes.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const nodeBuiltins = ['node:*', 'fs', 'fs/*', 'path', 'os', 'crypto', 'http', 'https', 'net', 'stream', 'stream/*',
  'buffer', 'events', 'util', 'zlib', 'child_process', 'worker_threads', 'url', 'timers', 'timers/*', 'process']

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
    files: ['packages/protocol/src/**/*.ts', 'packages/core/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    languageOptions: { globals: webStandardGlobals },
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: nodeBuiltins, message: 'protocol and core are runtime-neutral: Web-standard APIs only.' }],
      }],
      'no-restricted-globals': ['error',
        ...['process', 'Buffer', 'require', '__dirname', '__filename', 'global', 'setImmediate', 'window',
          'document', 'navigator', 'localStorage', 'indexedDB'].map((name) => ({
          name, message: 'protocol and core are runtime-neutral: Web-standard APIs only.',
        })),
      ],
    },
  },
)

// Bundles an SDK entry as a user's bundler would (esbuild, minified, tree-shaken, from the
// packages' sources) and measures it: minified bytes and min+gzip bytes (gzip -9). Any Node
// built-in in the bundle fails the build, whatever the platform.
import { builtinModules } from 'node:module'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

export const noNodeBuiltins = {
  name: 'no-node-builtins',
  setup(b) {
    const names = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))
    b.onResolve({ filter: /.*/ }, (args) =>
      args.path.startsWith('node:') || names.has(args.path) ? { errors: [{ text: `Node built-in "${args.path}" imported by ${args.importer}` }] } : undefined)
  },
}

/** The SDK entries and their budgets (min+gzip bytes). */
export const ENTRIES = [
  { name: '@meterkit/browser', entry: 'packages/browser/src/index.ts', platform: 'browser', budgetBytes: 8 * 1024 },
  { name: '@meterkit/edge', entry: 'packages/edge/src/index.ts', platform: 'neutral', budgetBytes: 6 * 1024 },
]

export async function measure({ entry, platform }, root) {
  const out = await build({
    entryPoints: [`${root}/${entry}`],
    bundle: true,
    minify: true,
    format: 'esm',
    platform,
    conditions: ['source'],
    write: false,
    logLevel: 'silent',
    plugins: [noNodeBuiltins],
  })
  const code = out.outputFiles[0].contents
  return { code: out.outputFiles[0].text, minBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length }
}

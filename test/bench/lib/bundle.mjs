// Bundles an SDK entry as a user's bundler would (esbuild, minified, tree-shaken, from the
// packages' sources) and measures it in min+gzip bytes (gzip -9). Modules the entry loads with
// import() (the browser's live stream) are left out of the entry's figure, as bundlers split
// them off, and measured with it in `withLazy`. Any Node built-in fails the build.
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

const lazyApart = {
  name: 'lazy-apart',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined))
  },
}

/** The SDK entries and their budgets (min+gzip bytes). */
export const ENTRIES = [
  { name: '@meterkit/browser', entry: 'packages/browser/src/index.ts', platform: 'browser', budgetBytes: 8 * 1024 },
  { name: '@meterkit/edge', entry: 'packages/edge/src/index.ts', platform: 'neutral', budgetBytes: 6 * 1024 },
  // What a webhook receiver on an edge runtime ships to verify deliveries.
  { name: '@meterkit/webhooks', entry: 'packages/webhooks/src/index.ts', platform: 'neutral', budgetBytes: 4 * 1024 },
]

async function bundle(root, { entry, platform }, plugins) {
  const out = await build({
    entryPoints: [`${root}/${entry}`],
    bundle: true,
    minify: true,
    format: 'esm',
    platform,
    conditions: ['source'],
    write: false,
    logLevel: 'silent',
    plugins: [noNodeBuiltins, ...plugins],
  })
  return out.outputFiles[0]
}

/** `{ code, minBytes, gzipBytes, withLazy: { minBytes, gzipBytes } }` of an entry. */
export async function measure(entry, root) {
  const own = await bundle(root, entry, [lazyApart])
  const all = await bundle(root, entry, [])
  const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length
  return {
    code: own.text,
    minBytes: own.contents.length,
    gzipBytes: gzip(own.contents),
    withLazy: { minBytes: all.contents.length, gzipBytes: gzip(all.contents) },
  }
}

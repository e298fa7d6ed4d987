// Builds the console and the customer portal (collector/console-ui) into collector/dist/console-ui:
// one minified ES module and one stylesheet per page, Preact and uPlot bundled in, so the
// collector serves them with nothing fetched from elsewhere. Runs in the repository's build
// (and so at install). The sources are type-checked first.
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const ui = join(here, '../console-ui')
const out = join(here, '../dist/console-ui')

export const CONSOLE_ENTRIES = { console: join(ui, 'src/console.tsx'), portal: join(ui, 'src/portal.tsx') }

export async function buildConsole({ outdir = out, write = true } = {}) {
  return build({
    entryPoints: CONSOLE_ENTRIES,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir,
    write,
    logLevel: 'warning',
    metafile: true,
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-p', join(ui, 'tsconfig.json')], { stdio: 'inherit' })
  mkdirSync(out, { recursive: true })
  await buildConsole()
}

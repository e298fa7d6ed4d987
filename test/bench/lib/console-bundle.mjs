// The console's and the portal's bundles as the collector serves them (collector/scripts/
// build-console.mjs, built in memory): each script and stylesheet in min+gzip bytes (gzip -9),
// against the pages' budgets. Any Node built-in fails the build.
import { gzipSync } from 'node:zlib'
import { buildConsole } from '../../../collector/scripts/build-console.mjs'

/** Budgets of what a browser loads for each page, script and stylesheet together (min+gzip bytes). */
export const CONSOLE_BUDGETS = { console: 40 * 1024, portal: 12 * 1024 }

/** `{ page: { jsBytes, cssBytes, gzipBytes, budgetBytes, code } }` for the console and the portal. */
export async function measureConsole() {
  const out = await buildConsole({ outdir: '/console-ui', write: false })
  const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length
  const figures = {}
  for (const page of Object.keys(CONSOLE_BUDGETS)) {
    const file = (ext) => out.outputFiles.find((f) => f.path === `/console-ui/${page}.${ext}`)
    const js = file('js')
    const css = file('css')
    figures[page] = {
      code: js.text,
      jsBytes: gzip(js.contents),
      cssBytes: css === undefined ? 0 : gzip(css.contents),
      gzipBytes: gzip(js.contents) + (css === undefined ? 0 : gzip(css.contents)),
      budgetBytes: CONSOLE_BUDGETS[page],
    }
  }
  return figures
}

// Bundle sizes of the browser and edge SDKs as users ship them, and of the console's pages: each entry bundled and minified
// with esbuild, gzipped (-9), against its budget. The browser's live stream is a lazy module
// (loaded on the first subscribe()): the entry's figure leaves it out, `with lazy` counts it.
// Last line: `::result::` + JSON, for the bench runner.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ENTRIES, measure } from './lib/bundle.mjs'
import { measureConsole } from './lib/console-bundle.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..')
const figures = []
for (const entry of ENTRIES) {
  const m = await measure(entry, ROOT)
  const ratio = m.gzipBytes / entry.budgetBytes
  console.log(`${entry.name}: ${m.gzipBytes} B min+gzip of a ${entry.budgetBytes} B budget (${(ratio * 100).toFixed(1)} %), ${m.minBytes} B minified; with lazy modules ${m.withLazy.gzipBytes} B`)
  figures.push(
    { name: `${entry.name} entry, min+gzip`, value: m.gzipBytes, unit: 'bytes', baseline: `budget ${entry.budgetBytes} B`, ratio, target: `≤ ${entry.budgetBytes} B` },
    { name: `${entry.name} entry, minified`, value: m.minBytes, unit: 'bytes' },
    { name: `${entry.name} with lazy modules, min+gzip`, value: m.withLazy.gzipBytes, unit: 'bytes' },
  )
}
// The pages the collector serves: what a browser loads for /console and /portal.
for (const [page, m] of Object.entries(await measureConsole())) {
  const ratio = m.gzipBytes / m.budgetBytes
  console.log(`/${page}: ${m.gzipBytes} B min+gzip (script ${m.jsBytes} B, styles ${m.cssBytes} B) of a ${m.budgetBytes} B budget (${(ratio * 100).toFixed(1)} %)`)
  figures.push({ name: `/${page} script and styles, min+gzip`, value: m.gzipBytes, unit: 'bytes', baseline: `budget ${m.budgetBytes} B`, ratio, target: `≤ ${m.budgetBytes} B` })
}
console.log('::result::' + JSON.stringify({ name: 'bundles', figures }))

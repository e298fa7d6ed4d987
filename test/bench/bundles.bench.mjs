// Bundle sizes of the browser and edge SDKs as users ship them: each entry bundled and minified
// with esbuild, gzipped (-9), against its budget. The browser's live stream is a lazy module
// (loaded on the first subscribe()): the entry's figure leaves it out, `with lazy` counts it.
// Last line: `::result::` + JSON, for the bench runner.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ENTRIES, measure } from './lib/bundle.mjs'

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
console.log('::result::' + JSON.stringify({ name: 'bundles', figures }))

// Writes docs/openapi.json, the collector's OpenAPI document as its routes declare it
// (`pnpm openapi`, which builds first). `--check` only says whether the committed file is current.
import { readFileSync, writeFileSync } from 'node:fs'
import { SqliteStore } from '@meterkit/engine'
import { createApp, openApiJson } from '@meterkit/collector'

const target = new URL('../docs/openapi.json', import.meta.url)
// The document depends on the routes only; an in-memory store is enough to build the app.
const store = new SqliteStore(':memory:')
const text = openApiJson(createApp({ store }))
await store.close()

if (process.argv.includes('--check')) {
  let committed = ''
  try {
    committed = readFileSync(target, 'utf8')
  } catch {
    // A missing file is out of date too.
  }
  if (committed !== text) {
    console.error('docs/openapi.json is out of date: run `pnpm openapi` and commit the file')
    process.exit(1)
  }
  console.log('docs/openapi.json is up to date')
} else {
  writeFileSync(target, text)
  console.log(`wrote docs/openapi.json (${Object.keys(JSON.parse(text).paths).length} paths)`)
}

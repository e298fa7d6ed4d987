// The console's and the portal's built files (collector/dist/console-ui, written by
// scripts/build-console.mjs at install), read once and kept in memory: they are small, and a
// page must never depend on anything outside the collector.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** From src/console (tests) and from dist/console (built) alike, the built assets' folder. */
export const ASSETS_DIR = fileURLToPath(new URL('../../dist/console-ui/', import.meta.url))

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json',
}

export interface Asset {
  body: Uint8Array
  type: string
}

let cache: Map<string, Asset> | undefined

/** The built assets by file name; empty when the console was not built. */
export function consoleAssets(): Map<string, Asset> {
  if (cache !== undefined) return cache
  const assets = new Map<string, Asset>()
  if (existsSync(ASSETS_DIR)) {
    for (const name of readdirSync(ASSETS_DIR)) {
      const type = TYPES[name.split('.').pop() ?? '']
      if (type !== undefined) assets.set(name, { body: readFileSync(new URL(name, `file://${ASSETS_DIR}`)), type })
    }
  }
  if (assets.size > 0) cache = assets
  return assets
}

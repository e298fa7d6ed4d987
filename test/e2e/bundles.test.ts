// What browser and edge users ship: each SDK entry bundled and minified stays within its
// budget (min+gzip), and carries no Node built-in (the build fails on one).
import { describe, expect, it } from 'vitest'
import { ROOT } from '../support/collector-process.js'
// @ts-expect-error: plain ESM helper shared with the benchmarks
import { ENTRIES, measure } from '../bench/lib/bundle.mjs'
// @ts-expect-error: plain ESM helper shared with the benchmarks
import { measureConsole } from '../bench/lib/console-bundle.mjs'

type Entry = { name: string; entry: string; platform: string; budgetBytes: number }
type Measured = { code: string; minBytes: number; gzipBytes: number; withLazy: { gzipBytes: number } }

describe('SDK bundles', () => {
  it.each((ENTRIES as Entry[]).map((e) => [e.name, e] as const))('%s fits its budget and has no Node built-in', async (_name, entry) => {
    const m = (await measure(entry, ROOT)) as Measured
    console.log(`[bundles] ${entry.name}: ${m.gzipBytes} B min+gzip (budget ${entry.budgetBytes}), ${m.minBytes} B minified; with lazy modules ${m.withLazy.gzipBytes} B`)
    expect(m.gzipBytes).toBeLessThanOrEqual(entry.budgetBytes)
    expect(m.code).not.toMatch(/\bzod\b|process\.env|\brequire\(/)
    // A lazily loaded module that imported the packages' barrels would drag them in whole.
    expect(m.withLazy.gzipBytes - m.gzipBytes).toBeLessThan(1024)
  })
})

describe('console and portal bundles', () => {
  it('each page fits its budget, with nothing loaded from elsewhere', async () => {
    const pages = (await measureConsole()) as Record<string, { code: string; gzipBytes: number; budgetBytes: number }>
    for (const [page, m] of Object.entries(pages)) {
      console.log(`[bundles] /${page}: ${m.gzipBytes} B min+gzip (budget ${m.budgetBytes})`)
      expect(m.gzipBytes).toBeLessThanOrEqual(m.budgetBytes)
      // No script, style or font fetched from another origin.
      expect(m.code).not.toMatch(/import\(\s*["']https?:|https?:\/\/[^"'\s]*\.(js|css|woff2?)\b/)
    }
  })
})

// What browser and edge users ship: each SDK entry bundled and minified stays within its
// budget (min+gzip), and carries no Node built-in (the build fails on one).
import { describe, expect, it } from 'vitest'
import { ROOT } from '../support/collector-process.js'
// @ts-expect-error: plain ESM helper shared with the benchmarks
import { ENTRIES, measure } from '../bench/lib/bundle.mjs'

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

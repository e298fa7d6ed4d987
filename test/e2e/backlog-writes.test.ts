// A saturating ingest never locks out the main thread's writes: the writer thread commits a
// backlog of 200,000 events back to back while 60 write transactions run on the main thread, and
// none of them meets "database is locked" (the billing scheduler's and the API's writes take this
// path). Real threads and a real database file, in a process of their own.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SCRIPT = fileURLToPath(new URL('../support/backlog-writes-run.mjs', import.meta.url))

describe('main-thread writes under a saturating ingest', () => {
  it('all commit while the writer thread works through its backlog', () => {
    const out = JSON.parse(execFileSync(process.execPath, [SCRIPT], { encoding: 'utf8' }).trim().split('\n').pop()!) as { failures: string[]; ingested: number; customers: number }
    expect(out.failures).toEqual([])
    expect(out.customers).toBe(60)
    expect(out.ingested).toBe(200_000)
  }, 120_000)
})

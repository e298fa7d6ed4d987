// The Node SDK against the real collector: 100,000 events from one process, the collector killed
// (SIGKILL) and restarted twice mid-stream; every event must be stored exactly once.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Meterkit } from '../../packages/node/src/index.js'

const ROOT = join(import.meta.dirname, '../..')
const BIN = join(ROOT, 'collector/bin/meterkit.js')
const ADMIN_KEY = 'mk_sec_sdk_e2e_0123456789abcdef'
const TOTAL = 100_000
const CHUNK = 1000

type Database = { prepare(sql: string): { get(): unknown; all(): unknown[] }; close(): void }
const openDb = createRequire(join(ROOT, 'packages/engine/package.json'))('better-sqlite3') as new (path: string, options?: object) => Database

let dir: string
let collector: ChildProcess | undefined

beforeAll(() => {
  // The collector CLI runs from its dist: build everything (incremental, fast when fresh).
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-b', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' })
  dir = mkdtempSync(join(tmpdir(), 'mk-sdk-e2e-'))
}, 180_000)

afterAll(() => {
  collector?.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

/** Starts `meterkit start` and resolves with its port once it listens. */
function startCollector(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start', '--port', String(port), '--db', join(dir, 'x.db'), '--admin-key', ADMIN_KEY], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    collector = child
    let out = ''
    const onData = (d: Buffer) => {
      out += d
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
      if (m) {
        child.stdout!.off('data', onData)
        resolve(Number(m[1]))
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (d) => (out += d))
    child.once('exit', (code) => reject(new Error(`collector exited (${code}): ${out}`)))
  })
}

function killCollector(): Promise<void> {
  const child = collector!
  collector = undefined
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })
}

const storedCount = () => {
  const db = new openDb(join(dir, 'x.db'), { readonly: true })
  try {
    return (db.prepare('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM events').get() as { n: number; ids: number })
  } finally {
    db.close()
  }
}

describe('Node SDK → real collector', () => {
  it('delivers 100,000 events exactly once across two collector crashes', async () => {
    const port = await startCollector(0)
    const mk = new Meterkit({
      endpoint: `http://127.0.0.1:${port}`,
      apiKey: ADMIN_KEY,
      bufferDir: join(dir, 'buffer'),
      flushAt: 250,
      timeoutMs: 2000,
    })
    const started = Date.now()
    for (let chunk = 0; chunk < TOTAL / CHUNK; chunk++) {
      if (chunk === 30 || chunk === 60) await killCollector()
      if (chunk === 35 || chunk === 65) await startCollector(port)
      for (let i = 0; i < CHUNK; i++) {
        const n = chunk * CHUNK + i
        mk.track({ id: `e2e-${n}`, event: 'render.completed', customerId: `cus_${n % 50}`, properties: { gpuSeconds: n % 17, resolution: '4k' } })
      }
      await new Promise((r) => setImmediate(r))
    }
    await mk.flush() // everything is acknowledged or durably buffered
    await expect.poll(() => mk.stats().acknowledged, { timeout: 90_000, interval: 200 }).toBe(TOTAL)
    const elapsedMs = Date.now() - started
    await mk.shutdown()

    const stats = mk.stats()
    expect(stats).toMatchObject({ tracked: TOTAL, acknowledged: TOTAL, rejected: 0, dropped: 0, buffered: 0, inFlight: 0 })
    await killCollector()
    expect(storedCount()).toEqual({ n: TOTAL, ids: TOTAL })
    console.log(`sdk → collector: ${TOTAL} events in ${elapsedMs} ms with two crashes; ${stats.duplicates} duplicates, ${stats.retried} retried`)
  }, 180_000)
})

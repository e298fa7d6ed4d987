// Guarantee 2 under SIGKILL: a child process tracks with bufferDir and is killed at random points
// while tracking and flushing; a new process on the same folder replays. Every event whose
// flush() resolved must reach the server exactly once (stored once, never a conflict).
import { execFileSync, spawn } from 'node:child_process'
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HttpCollector, type Fault } from '../../packages/node/src/testing/http-collector.js'

const ROOT = join(import.meta.dirname, '../..')
const CHILD = join(ROOT, 'packages/node/test-fixtures/crash-child.mjs')
const KEY = 'mk_sec_test_key_0123456789'

beforeAll(() => {
  // The child runs the package as shipped (dist), so build it first (incremental: fast when fresh).
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-b', join(ROOT, 'packages/node')], { stdio: 'inherit' })
}, 120_000)

let dir: string
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function runChild(args: string[], killAfterMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Ids written after a resolved flush(): complete lines only (a kill may cut the last one). */
function flushedIds(file: string): string[] {
  if (!existsSync(file)) return []
  const lines = readFileSync(file, 'utf8').split('\n')
  lines.pop()
  return lines.filter((l) => l.length > 0)
}

describe('SDK crash safety (SIGKILL)', () => {
  it('delivers every event flushed before a kill exactly once, after a restart on the same folder', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mk-crash-'))
    const bufferDir = join(dir, 'buffer')
    const out = join(dir, 'flushed.txt')
    const collector = new HttpCollector(KEY)
    const url = await collector.start()
    let seed = 42
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    collector.chaos = (): Fault | undefined => {
      const r = random()
      if (r < 0.15) return 'lost'
      if (r < 0.25) return { status: 503 }
      if (r < 0.3) return 'reset'
      if (r < 0.33) return 'hang'
      return undefined
    }
    try {
      // A first run finishes on its own; the next ones are killed wherever they happen to be.
      expect((await runChild([url, KEY, bufferDir, '9', '3', out])).code).toBe(0)
      for (let run = 0; run < 6; run++) {
        const killAfter = 250 + Math.floor(random() * 1000)
        const result = await runChild([url, KEY, bufferDir, String(run), '1000', out], killAfter)
        if (process.env.MK_DEBUG) appendFileSync(process.env.MK_DEBUG, `${run} ${killAfter} ${result.code} ${flushedIds(out).length} ${result.stderr.slice(0, 300)}\n`)
        expect(result.stderr).not.toMatch(/Error/)
      }
      collector.chaos = undefined
      const drained = await runChild([url, KEY, bufferDir, 'drain', '0', out, 'drain'])
      expect(drained.code).toBe(0)
      expect(JSON.parse(drained.stdout)).toMatchObject({ segmentsLeft: 0, buffered: 0, dropped: 0 })

      const flushed = flushedIds(out)
      expect(flushed.length).toBeGreaterThanOrEqual(111)
      const missing = flushed.filter((id) => !collector.stored.has(id))
      expect(missing).toEqual([])
      expect(collector.conflicts).toBe(0)
      expect(collector.rejected).toBe(0)
      // Stored once each (a Map keyed by id); every stored id was really tracked by some run.
      for (const id of collector.stored.keys()) expect(id).toMatch(/^run\d-\d+-\d+$/)
    } finally {
      await collector.stop()
    }
  }, 90_000)
})

// Disk faults: the database on a small tmpfs that fills up. While the disk is full the collector
// answers 503 `unavailable` with Retry-After (never 500, never a crash), acknowledges nothing it
// did not commit and keeps serving reads; once space is freed it takes events again, without a
// restart. Needs root for `mount`; skips with a message where mounting is not permitted.
import { execFileSync } from 'node:child_process'
import { closeSync, openSync, rmdirSync, statfsSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { CHAOS_LONG, audit, describeAudit, makeEvents, readStored, stableTimestamp } from '../support/chaos.js'
import { Processes, killCollector, stopCollector } from '../support/collector-control.js'
import { ADMIN_KEY, startCollector, tempDir } from '../support/collector-process.js'

// The long variant fills and frees the disk several times on a larger tmpfs.
const CYCLES = CHAOS_LONG ? 6 : 1
const TMPFS_SIZE = CHAOS_LONG ? '32m' : '8m'

function tryMount(dir: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', dir], { stdio: 'pipe' })
    return undefined
  } catch (err) {
    return String((err as { stderr?: Buffer }).stderr ?? err).trim()
  }
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' })
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' })
  }
  rmdirSync(dir)
}

const freeBytes = (dir: string) => {
  const s = statfsSync(dir)
  return s.bavail * s.bsize
}

/** Appends to the filler until about `leaveBytes` are free; the database may grow meanwhile
 * (a checkpoint that failed while the disk was full runs again), so ENOSPC just means done. */
function fillUntil(dir: string, filler: string, leaveBytes: number): void {
  const fd = openSync(filler, 'a')
  try {
    for (let free = freeBytes(dir); free > leaveBytes; free = freeBytes(dir)) {
      writeSync(fd, Buffer.alloc(Math.min(1 << 20, free - leaveBytes)))
    }
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOSPC') throw err
  } finally {
    closeSync(fd)
  }
}

const auth = { authorization: `Bearer ${ADMIN_KEY}` }

async function post(url: string, path: string, body: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: JSON.parse(text) as Record<string, unknown> & { error?: { code: string; message: string } } }
}

describe('disk full under the database', () => {
  it('503 unavailable with Retry-After while full, reads still served, recovery once space is freed', async (ctx) => {
    const mountDir = tempDir('meterkit-chaos-disk-')
    const problem = tryMount(mountDir)
    if (problem !== undefined) {
      rmdirSync(mountDir)
      ctx.skip(`disk-full test skipped: cannot mount a tmpfs here (${problem}); it needs root`)
      return
    }
    const procs = new Processes()
    const dbPath = join(mountDir, 'meterkit.db')
    const filler = join(mountDir, 'filler')
    try {
      const collector = procs.add(await startCollector(dbPath))
      const sent = new Map<string, ReturnType<typeof makeEvents>[number]>()
      const acknowledged = new Set<string>()
      const ts = stableTimestamp()
      let n = 0
      const nextBatch = () => makeEvents(`disk-${n++}`, 100, ts).map((e) => ({ ...e, properties: { ...e.properties, pad: 'x'.repeat(2000) } }))
      const send = async () => {
        const events = nextBatch()
        for (const e of events) sent.set(e.id, e)
        const answer = await post(collector.url, '/v1/events', { events })
        if (answer.status === 200) {
          for (const r of answer.body.results as { id: string; status: string }[]) {
            if (r.status === 'accepted' || r.status === 'duplicate') acknowledged.add(r.id)
          }
        }
        return answer
      }

      expect((await send()).status).toBe(200)
      let keyMadeOnFullDisk: string | undefined
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        // Leave about 1.5 MB free, then fill it with events.
        fillUntil(mountDir, filler, 1_500_000)
        const refusals: { status: number; retryAfter: string | null; code: string | undefined }[] = []
        for (let i = 0; i < 400 && refusals.length < 3; i++) {
          const answer = await send()
          if (answer.status !== 200) refusals.push({ status: answer.status, retryAfter: answer.retryAfter, code: answer.body.error?.code })
        }
        console.log(`[chaos disk] cycle ${cycle}: ${acknowledged.size} events acknowledged before the disk filled; refusals: ${JSON.stringify(refusals)}; free ${freeBytes(mountDir)} bytes`)
        expect(refusals).toHaveLength(3)
        for (const r of refusals) expect(r).toEqual({ status: 503, retryAfter: expect.stringMatching(/^\d+$/), code: 'unavailable' })
        // Not ready while writes fail: a load balancer sends new traffic elsewhere.
        expect((await fetch(`${collector.url}/readyz`)).status).toBe(503)

        // Other writes either still fit in space the database already holds (and are committed:
        // such a key works after the restart below) or fail the same clean way, never with a 500.
        const keyAnswers: string[] = []
                for (let i = 0; i < 200; i++) {
          const key = await post(collector.url, '/v1/keys', { name: `during-full-disk-${i}` })
          if (key.status === 201) {
            keyMadeOnFullDisk = key.body.key as string
            continue
          }
          keyAnswers.push(`${key.status} ${key.body.error?.code} retry-after=${key.retryAfter}`)
          if (keyAnswers.length === 2) break
        }
        console.log(`[chaos disk] cycle ${cycle}: POST /v1/keys on the full disk, refusals: ${JSON.stringify(keyAnswers)}`)
        expect(keyAnswers).toEqual(['503 unavailable retry-after=1', '503 unavailable retry-after=1'])
        expect(collector.child.exitCode).toBeNull()
        expect((await fetch(`${collector.url}/healthz`)).status).toBe(200)
        const someId = [...acknowledged][acknowledged.size - 1]!
        const one = await fetch(`${collector.url}/v1/events/${someId}`, { headers: auth })
        expect(one.status).toBe(200)
        expect(((await one.json()) as { id: string }).id).toBe(someId)
        const list = await fetch(`${collector.url}/v1/events?limit=5`, { headers: auth })
        expect(list.status).toBe(200)
        expect(((await list.json()) as { data: unknown[] }).data).toHaveLength(5)

        // Free the space: the same process takes events again.
        unlinkSync(filler)
        const after = await send()
        expect(after.status, JSON.stringify(after.body)).toBe(200)
        expect(after.body.accepted).toBe(100)
        expect((await fetch(`${collector.url}/readyz`)).status).toBe(200)
        expect((await post(collector.url, '/v1/keys', { name: `after-recovery-${cycle}` })).status).toBe(201)
      }

      // Nothing acknowledged was lost, nothing stored twice or unasked, even across a kill -9.
      await killCollector(collector)
      const restarted = procs.add(await startCollector(dbPath))
      if (keyMadeOnFullDisk !== undefined) {
        expect((await fetch(`${restarted.url}/v1/events?limit=1`, { headers: { authorization: `Bearer ${keyMadeOnFullDisk}` } })).status).toBe(200)
      }
      expect(await stopCollector(restarted)).toBe(0)
      const db = new Database(dbPath, { readonly: true })
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
      db.close()
      const result = audit(sent, acknowledged, readStored(dbPath))
      console.log(`[chaos disk] ${describeAudit(result)}`)
      expect(result.lost, describeAudit(result)).toEqual([])
      expect(result.duplicated, describeAudit(result)).toEqual([])
      expect(result.unexpected, describeAudit(result)).toEqual([])
    } finally {
      await procs.killAll()
      unmount(mountDir)
    }
  }, 60_000)
})

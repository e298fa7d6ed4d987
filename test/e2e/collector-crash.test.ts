// Guarantee 1: an event acknowledged as accepted or duplicate is stored once and survives a
// kill -9 of the collector at any instant.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { ADMIN_KEY, CLI, postEvents, startCollector, tempDir } from '../support/collector-process.js'

function storedIds(dbPath: string): Map<string, number> {
  const db = new Database(dbPath, { readonly: true })
  try {
    const rows = db.prepare('SELECT id, count(*) AS n FROM events GROUP BY tenant_id, id').all() as { id: string; n: number }[]
    return new Map(rows.map((r) => [r.id, r.n]))
  } finally {
    db.close()
  }
}

function batch(prefix: string, n: number, size: number) {
  const ts = new Date().toISOString()
  return Array.from({ length: size }, (_, i) => ({
    id: `${prefix}-${n}-${i}`,
    event: 'render.completed',
    customerId: `cus_${i % 17}`,
    timestamp: ts,
    properties: { gpuSeconds: (i % 10) + 0.5 },
  }))
}

describe('collector crash (kill -9)', () => {
  it('every event acknowledged before a kill -9 is stored after restart, none twice', async () => {
    const dir = tempDir()
    const dbPath = join(dir, 'meterkit.db')
    const configPath = join(dir, 'config.json')
    writeFileSync(configPath, JSON.stringify({ meters: [
      { key: 'gpu', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds' },
      { key: 'renders', event: 'render.completed', aggregation: 'count' },
    ] }))
    const acknowledged = new Set<string>()
    const sent = new Set<string>()

    for (let round = 0; round < 3; round++) {
      const collector = await startCollector(dbPath, ['--config', configPath])
      let stop = false
      let n = 0
      const senders = Array.from({ length: 4 }, async (_, s) => {
        while (!stop) {
          const events = batch(`r${round}s${s}`, n++, 200)
          for (const e of events) sent.add(e.id)
          try {
            const res = await postEvents(collector.url, events)
            if (res.status !== 200) continue
            const body = (await res.json()) as { results: { id: string; status: string }[] }
            for (const r of body.results) if (r.status === 'accepted' || r.status === 'duplicate') acknowledged.add(r.id)
          } catch {
            return // the collector is gone
          }
        }
      })
      // Let some batches commit, then kill at an arbitrary instant mid-stream.
      while (acknowledged.size < (round + 1) * 2000) await new Promise((r) => setImmediate(r))
      collector.child.kill('SIGKILL')
      stop = true
      await Promise.all(senders)
      await collector.exited
    }

    // A restart recovers the database; then count.
    const last = await startCollector(dbPath)
    last.child.kill('SIGTERM')
    expect(await last.exited).toBe(0)
    expect(last.output()).not.toContain('failed')
    const stored = storedIds(dbPath)
    for (const id of acknowledged) expect(stored.get(id), id).toBe(1)
    for (const [id, n] of stored) {
      expect(n).toBe(1)
      expect(sent.has(id)).toBe(true)
    }
    expect(acknowledged.size).toBeGreaterThanOrEqual(6000)
    // The rollups folded by the maintenance thread, across the kills, agree with the raw events.
    const verify = execFileSync(process.execPath, [CLI, 'verify', '--db', dbPath], { encoding: 'utf8' })
    expect(verify).toContain('no difference')
    expect(verify).toContain(`verified ${stored.size} events`)
  }, 120_000)

  it('SIGTERM drains: batches in flight are answered and stored, then the process exits 0', async () => {
    const dir = tempDir()
    const dbPath = join(dir, 'meterkit.db')
    const collector = await startCollector(dbPath)
    // Bodies are streamed in two halves, so the batches are surely in flight when SIGTERM lands.
    const writers: ReadableStreamDefaultController<Uint8Array>[] = []
    const bodies = Array.from({ length: 8 }, (_, i) => new TextEncoder().encode(JSON.stringify({ events: batch('drain', i, 500) })))
    const inFlight = bodies.map((bytes) => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          writers.push(controller)
          controller.enqueue(bytes.subarray(0, bytes.length >> 1))
        },
      })
      return fetch(`${collector.url}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit)
    })
    for (;;) {
      const metrics = await (await fetch(`${collector.url}/metrics`)).text()
      if (/meterkit_http_requests_in_flight 8\b/.test(metrics)) break
      await new Promise((r) => setTimeout(r, 10))
    }
    collector.child.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 100))
    bodies.forEach((bytes, i) => {
      writers[i]!.enqueue(bytes.subarray(bytes.length >> 1))
      writers[i]!.close()
    })
    const answers = await Promise.all(inFlight.map(async (p) => {
      const res = await p
      return { status: res.status, body: (await res.json()) as { accepted: number; results: { id: string }[] } }
    }))
    expect(await collector.exited).toBe(0)
    const stored = storedIds(dbPath)
    for (const a of answers) {
      expect(a.status).toBe(200)
      expect(a.body.accepted).toBe(500)
      for (const r of a.body.results) expect(stored.get(r.id)).toBe(1)
    }
    expect(stored.size).toBe(8 * 500)
    expect(collector.output()).toContain('SIGTERM received, draining')
  }, 60_000)
})

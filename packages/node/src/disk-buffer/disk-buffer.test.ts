import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DiskBuffer } from './disk-buffer.js'
import { LOCK_FILE, MeterkitBufferLockedError } from './lock.js'
import { encodeRecord } from './record.js'

const dirs: string[] = []
const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL')
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mk-buffer-'))
  dirs.push(d)
  return d
}

function ev(i: number, pad = 0) {
  const json = JSON.stringify({ id: `e${i}`, event: 'x', customerId: 'c', timestamp: '2026-11-25T10:00:00.000Z', properties: { p: 'é'.repeat(pad) } })
  return { id: `e${i}`, json, bytes: Buffer.byteLength(json) }
}
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => ev(a + i))
const segments = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('segment-')).sort()

describe('DiskBuffer', () => {
  it('appends, hands out in order, deletes a segment once all its events are acknowledged', async () => {
    const dir = tempDir()
    const b = new DiskBuffer({ dir, segmentBytes: 2000 })
    await b.append(range(0, 10))
    await b.append(range(10, 25))
    expect(b.size).toBe(25)
    expect(segments(dir).length).toBeGreaterThan(1)
    const first = await b.read(10, 1e6)
    expect(first.map((e) => e.id)).toEqual(range(0, 10).map((e) => e.id))
    const second = await b.read(100, 1e6)
    expect(second.map((e) => e.id)).toEqual(range(10, 25).map((e) => e.id))
    expect(await b.read(100, 1e6)).toEqual([])
    await b.ack(first)
    expect(b.size).toBe(15)
    await b.ack(second)
    await b.close()
    expect(segments(dir)).toEqual([])
    expect(b.stats()).toMatchObject({ events: 0, bytes: 0 })
  })

  it('keeps a segment while any event in it is unacknowledged, and replays it on restart', async () => {
    const dir = tempDir()
    const b = new DiskBuffer({ dir })
    await b.append(range(0, 5))
    const got = await b.read(5, 1e6)
    await b.ack(got.slice(0, 4))
    await b.close()
    expect(segments(dir)).toHaveLength(1)
    const again = new DiskBuffer({ dir })
    expect((await again.read(100, 1e6)).map((e) => e.id)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4'])
    expect(again.size).toBe(5)
    await again.close()
  })

  it('respects maxEvents and maxBytes when reading', async () => {
    const b = new DiskBuffer({ dir: tempDir() })
    await b.append(Array.from({ length: 20 }, (_, i) => ev(i, 100)))
    const one = ev(0, 100).bytes
    expect(await b.read(3, 1e6)).toHaveLength(3)
    expect(await b.read(100, one * 4 + 10)).toHaveLength(4)
    expect(await b.read(100, 1)).toHaveLength(1) // the first event always travels
    await b.close()
  })

  it('skips a torn tail and a corrupt record on recovery, and counts them', async () => {
    const dir = tempDir()
    const b = new DiskBuffer({ dir })
    await b.append(range(0, 4))
    await b.close()
    const [name] = segments(dir)
    const path = join(dir, name!)
    const lines = readFileSync(path, 'utf8').split('\n')
    lines[1] = lines[1]!.replace('"e1"', '"eX"') // checksum no longer matches
    writeFileSync(path, lines.join('\n'))
    appendFileSync(path, encodeRecord(ev(99)).subarray(0, 20)) // a write cut short
    const errors: string[] = []
    const again = new DiskBuffer({ dir, onError: (e) => errors.push(e.code) })
    const got = await again.read(100, 1e6)
    expect(got.map((e) => e.id)).toEqual(['e0', 'e2', 'e3'])
    expect(again.stats()).toMatchObject({ corruptRecords: 1, tornRecords: 1, events: 3 })
    expect(errors.sort()).toEqual(['buffer_corrupt_record', 'buffer_torn_record'])
    await again.ack(got)
    await again.close()
    expect(segments(dir)).toEqual([])
  })

  it('refuses the newest events past the size cap', async () => {
    const one = encodeRecord(ev(0)).length
    const b = new DiskBuffer({ dir: tempDir(), maxBytes: one * 5 + 3 })
    expect((await b.append(range(0, 3))).refused).toEqual([])
    const { refused } = await b.append(range(3, 8))
    expect(refused.map((e) => e.id)).toEqual(['e5', 'e6', 'e7'])
    expect(b.size).toBe(5)
    const got = await b.read(100, 1e6)
    await b.ack(got)
    expect((await b.append(range(8, 10))).refused).toEqual([]) // room again
    await b.close()
  })

  it('refuses a folder locked by another live process, takes over a dead one', async () => {
    const dir = tempDir()
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
    children.push(other)
    writeFileSync(join(dir, LOCK_FILE), `${other.pid}\n`)
    expect(() => new DiskBuffer({ dir })).toThrow(MeterkitBufferLockedError)
    expect(() => new DiskBuffer({ dir })).toThrow(new RegExp(`in use by process ${other.pid}`))
    other.kill('SIGKILL')
    await new Promise((r) => other.once('exit', r))
    const b = new DiskBuffer({ dir })
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`)
    expect(() => new DiskBuffer({ dir })).toThrow(/another Meterkit instance/)
    await b.close()
    const c = new DiskBuffer({ dir })
    await c.close()
  })
})

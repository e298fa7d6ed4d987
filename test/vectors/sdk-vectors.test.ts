// The test vectors shared by the TypeScript and Python SDKs (python/tests/test_vectors.py reads
// the same files): event encoding and validation, batch cutting, backoff, Retry-After, RFC 3339
// timestamps, UUIDv7 layout and disk buffer records. Both suites hold their SDK to them.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { formatTimestamp, parseRfc3339 } from '@meterkit/protocol'
import { describe, expect, it } from 'vitest'
import { batchLimits, bodyBytes, takeBatch } from '../../packages/core/src/batcher.js'
import { backoffMs, isRetryableStatus, parseRetryAfter } from '../../packages/core/src/backoff.js'
import { MeterkitValidationError } from '../../packages/core/src/errors.js'
import { serializeEvent, type TrackInput } from '../../packages/core/src/event.js'
import { uuidV7 } from '../../packages/core/src/ids.js'
import { readTimestamp } from '../../packages/core/src/timestamp.js'
import { decodeRecords, encodeRecord } from '../../packages/node/src/disk-buffer/record.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const vectors = (name: string): any => JSON.parse(readFileSync(join(import.meta.dirname, name), 'utf8'))

/** Tagged values of the vector files: {"$number": "NaN"}, {"$repeat": [text, count]}. */
function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode)
  if (value !== null && typeof value === 'object') {
    if ('$number' in value) return Number((value as { $number: string }).$number)
    if ('$repeat' in value) {
      const [text, count] = (value as { $repeat: [string, number] }).$repeat
      return text.repeat(count)
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]))
  }
  return value
}

describe('shared vectors: events', () => {
  const { nowMs, generatedId, valid, invalid } = vectors('events.json')
  const ser = (input: unknown) => serializeEvent(decode(input) as TrackInput, nowMs, () => generatedId, 1)

  it.each(valid.map((c: { name: string }) => [c.name, c]))('%s', (_name, c: { input: unknown; json: string; bytes: number }) => {
    const e = ser(c.input)
    expect(e.json).toBe(c.json)
    expect(e.bytes).toBe(c.bytes)
    expect(new TextEncoder().encode(e.json).length).toBe(c.bytes)
  })

  it.each(invalid.map((c: { name: string }) => [c.name, c]))('%s', (_name, c: { input: unknown; field: string }) => {
    let error: unknown
    try {
      ser(c.input)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(MeterkitValidationError)
    expect((error as MeterkitValidationError).field).toBe(c.field)
  })
})

describe('shared vectors: batches', () => {
  it.each(vectors('batches.json').cases.map((c: { name: string }) => [c.name, c]))('%s', (_name, c) => {
    const limits = batchLimits(c.flushAt, c.maxBatchBytes)
    expect(limits).toEqual(c.limits)
    const sizes: number[] = c.runs.flatMap(([n, size]: [number, number]) => Array<number>(n).fill(size))
    const queue = sizes.map((bytes, i) => ({ id: `e${i}`, json: '', bytes }))
    let head = 0
    const source = { get length() { return queue.length - head }, peek: () => queue[head], shift: () => queue[head++] }
    const batches: number[] = []
    while (source.length > 0) batches.push(takeBatch(source, limits).length)
    expect(batches).toEqual(c.batches)
    expect(bodyBytes(sizes.length, sizes.reduce((a, b) => a + b, 0))).toBe(c.bodyBytes)
  })
})

describe('shared vectors: retries', () => {
  const b = vectors('backoff.json')
  it('backoff bounds per attempt', () => {
    for (const { attempt, ceilingMs } of b.ceilings) {
      expect(backoffMs(attempt, () => 0)).toBe(0)
      expect(backoffMs(attempt, () => 1 - Number.EPSILON)).toBe(ceilingMs - 1)
      expect(ceilingMs).toBe(Math.min(b.capMs, b.baseMs * 2 ** (attempt - 1)))
    }
    for (const { attempt, random, ms } of b.cases) expect(backoffMs(attempt, () => random), `attempt ${attempt}, random ${random}`).toBe(ms)
  })

  it('retryable statuses', () => {
    for (const s of b.retryable) expect(isRetryableStatus(s), String(s)).toBe(true)
    for (const s of b.final) expect(isRetryableStatus(s), String(s)).toBe(false)
  })

  it('Retry-After', () => {
    const { nowMs, cases, differ } = vectors('retry-after.json')
    for (const { value, ms } of cases) expect(parseRetryAfter(value ?? undefined, nowMs) ?? null, JSON.stringify(value)).toBe(ms)
    // Where the SDKs differ (values that are not RFC 9110 HTTP-dates), this core's reading is pinned too.
    for (const { value, typescriptMs } of differ) {
      if (typescriptMs !== undefined) expect(parseRetryAfter(value, nowMs) ?? null, JSON.stringify(value)).toBe(typescriptMs)
    }
  })
})

describe('shared vectors: timestamps, ids, buffer records', () => {
  it('RFC 3339', () => {
    for (const { text, ms, iso } of vectors('timestamps.json').cases) {
      expect(readTimestamp(text) ?? null, text).toBe(ms)
      expect(parseRfc3339(text) ?? null, text).toBe(ms)
      if (ms !== null) expect(formatTimestamp(ms)).toBe(iso)
    }
  })

  it('UUIDv7 layout', () => {
    for (const { ms, counter, random, id } of vectors('uuid-v7.json').cases) {
      const bytes = Uint8Array.from((random as string).match(/../g)!.map((h) => parseInt(h, 16)))
      expect(uuidV7(ms, counter, bytes)).toBe(id)
    }
  })

  it('disk buffer records', () => {
    const { encode, decode: chunks } = vectors('buffer-records.json')
    for (const { json, line } of encode) {
      expect(encodeRecord({ id: JSON.parse(json).id, json, bytes: Buffer.byteLength(json) }).toString('utf8')).toBe(line)
    }
    for (const { name, chunk, ids, consumed, corrupt } of chunks) {
      const r = decodeRecords(Buffer.from(chunk, 'utf8'))
      expect({ ids: r.records.map((x) => x.id), consumed: r.consumed, corrupt: r.corrupt }, name).toEqual({ ids, consumed, corrupt })
    }
  })
})

import fc from 'fast-check'
import { MAX_BATCH_BYTES, MAX_BATCH_EVENTS } from '@meterkit/protocol'
import { describe, expect, it } from 'vitest'
import { batchLimits, encodeBatch, takeBatch } from './batcher.js'
import { QueuedEvent } from './event.js'
import { EventQueue } from './queue.js'

function eventOf(seq: number, pad: number): QueuedEvent {
  const json = JSON.stringify({ id: `e${seq}`, event: 'x', customerId: 'c', timestamp: 't', properties: { p: 'é'.repeat(pad) } })
  return new QueuedEvent(`e${seq}`, json, new TextEncoder().encode(json).length, seq)
}

describe('takeBatch', () => {
  it('cuts batches within count and byte limits, in order, losing nothing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 300 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 2 * MAX_BATCH_BYTES }),
        (pads, flushAt, maxBatchBytes) => {
          const queue = new EventQueue()
          pads.forEach((pad, i) => queue.push(eventOf(i + 1, pad)))
          const limits = batchLimits(flushAt, maxBatchBytes)
          expect(limits.maxEvents).toBeLessThanOrEqual(MAX_BATCH_EVENTS)
          expect(limits.maxBytes).toBeLessThanOrEqual(MAX_BATCH_BYTES)
          const seen: number[] = []
          while (queue.length > 0) {
            const batch = takeBatch(queue, limits)
            expect(batch.length).toBeGreaterThan(0)
            expect(batch.length).toBeLessThanOrEqual(limits.maxEvents)
            const size = new TextEncoder().encode(encodeBatch(batch)).length
            if (batch.length > 1) expect(size).toBeLessThanOrEqual(limits.maxBytes)
            seen.push(...batch.map((e) => e.seq))
          }
          expect(seen).toEqual(pads.map((_, i) => i + 1))
          expect(queue.bytes).toBe(0)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('encodes the stored JSON as the request body', () => {
    const events = [eventOf(1, 0), eventOf(2, 1)]
    expect(JSON.parse(encodeBatch(events))).toEqual({ events: events.map((e) => JSON.parse(e.json)) })
  })
})

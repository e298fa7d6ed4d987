import fc from 'fast-check'
import { v7 } from 'uuid'
import { describe, expect, it } from 'vitest'
import { newEventId, uuidV7 } from './ids.js'

describe('UUIDv7 ids', () => {
  it('are the uuid package’s v7 for the same time, counter and random bytes', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.uint8Array({ minLength: 16, maxLength: 16 }),
      (ms, counter, random) => {
        expect(uuidV7(ms, counter, random)).toBe(v7({ msecs: ms, seq: counter, random }))
      },
    ))
  })

  it('grow with time and within a millisecond', () => {
    const ids = [newEventId(1000), newEventId(1000), newEventId(1000), newEventId(999), newEventId(1001)]
    expect([...ids].sort()).toEqual(ids)
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
})

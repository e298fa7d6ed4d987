import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { batchResponseSchema } from './batch.js'
import { errorBodySchema } from './errors.js'
import { readBatchResults, readErrorBody } from './response.js'

const result = fc.record({
  id: fc.oneof(fc.string(), fc.constant(null), fc.integer()),
  status: fc.constantFrom('accepted', 'duplicate', 'conflict', 'rejected', 'other'),
  code: fc.option(fc.oneof(fc.string(), fc.integer()), { nil: undefined }),
  message: fc.option(fc.string(), { nil: undefined }),
}, { requiredKeys: ['status'] })

const count = fc.oneof(fc.nat(), fc.constant(-1), fc.constant(1.5), fc.constant('1'))

describe('readers agree with the wire schemas', () => {
  it('readBatchResults accepts exactly what batchResponseSchema accepts', () => {
    fc.assert(fc.property(
      fc.record({ accepted: count, duplicates: count, conflicts: count, rejected: count, results: fc.array(result, { maxLength: 5 }) }, { requiredKeys: [] }),
      (body) => {
        expect(readBatchResults(body) !== undefined).toBe(batchResponseSchema.safeParse(body).success)
      },
    ), { numRuns: 500 })
  })

  it('readErrorBody accepts exactly what errorBodySchema accepts', () => {
    fc.assert(fc.property(
      fc.oneof(fc.anything(), fc.record({ error: fc.record({ code: fc.oneof(fc.string(), fc.integer()), message: fc.oneof(fc.string(), fc.constant(null)) }, { requiredKeys: [] }) })),
      (body) => {
        expect(readErrorBody(body) !== undefined).toBe(errorBodySchema.safeParse(body).success)
      },
    ), { numRuns: 500 })
    expect(readErrorBody({ error: { code: 'forbidden', message: 'no', details: [1] } })).toEqual({ code: 'forbidden', message: 'no', details: [1] })
  })
})

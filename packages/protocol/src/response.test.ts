import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { batchResponseSchema } from './batch.js'
import { errorBodySchema } from './errors.js'
import { readBatchResults, readErrorBody } from './response.js'

const result = fc.record({
  id: fc.oneof(fc.string(), fc.constant(null)),
  status: fc.constantFrom('accepted', 'duplicate', 'conflict', 'rejected', 'other'),
  code: fc.option(fc.string(), { nil: undefined }),
  message: fc.option(fc.string(), { nil: undefined }),
}, { requiredKeys: ['status'] })

const count = fc.oneof(fc.nat(), fc.constant(-1), fc.constant('1'))

describe('readers of the collector’s answers', () => {
  it('readBatchResults takes every answer the wire schema takes, and only results with known statuses', () => {
    fc.assert(fc.property(
      fc.oneof(fc.anything(), fc.record({ accepted: count, duplicates: count, conflicts: count, rejected: count, results: fc.array(result, { maxLength: 5 }) }, { requiredKeys: [] })),
      (body) => {
        const read = readBatchResults(body)
        if (batchResponseSchema.safeParse(body).success) expect(read).toEqual((body as { results: unknown }).results)
        if (read !== undefined) for (const r of read) expect(['accepted', 'duplicate', 'conflict', 'rejected']).toContain(r.status)
      },
    ), { numRuns: 500 })
    expect(readBatchResults({ results: [{ id: 'a', status: 'other' }] })).toBeUndefined()
    expect(readBatchResults('{"results":[]}')).toBeUndefined()
  })

  it('readErrorBody accepts exactly what errorBodySchema accepts', () => {
    fc.assert(fc.property(
      fc.oneof(fc.anything(), fc.record({ error: fc.record({ code: fc.oneof(fc.string(), fc.integer()), message: fc.oneof(fc.string(), fc.constant(null)) }, { requiredKeys: [] }) })),
      (body) => {
        expect(readErrorBody(body) !== undefined).toBe(errorBodySchema.safeParse(body).success)
      },
    ), { numRuns: 500 })
  })
})

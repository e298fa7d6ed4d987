// Query strings of the reporting and export routes. Ranges are half-open [from, to); by default
// the twelve UTC months up to now.
import { z } from '@hono/zod-openapi'
import { parseRfc3339 } from '@meterkit/protocol'
import { HttpError } from '../http-error.js'
import { instant } from '../openapi/index.js'

export const rangeQuerySchema = z.object({
  from: instant.optional().meta({ description: 'Start of the range (inclusive); default: the start of the UTC month eleven months before `to`' }),
  to: instant.optional().meta({ description: 'End of the range (exclusive); default: now' }),
})

/** The range of a report: [from, to), by default from the start of the UTC month eleven months ago to now. */
export function reportRange(q: { from?: string; to?: string }, nowMs: number): { fromMs: number; toMs: number } {
  const toMs = q.to === undefined ? nowMs : parseRfc3339(q.to)!
  const d = new Date(toMs)
  const fromMs = q.from === undefined ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 11, 1) : parseRfc3339(q.from)!
  if (!(fromMs < toMs)) throw new HttpError('invalid_request', 'from: must be before to')
  return { fromMs, toMs }
}

/** Engine range errors (a range too long, a bad cursor) as 400s. */
export async function rangeErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof RangeError) throw new HttpError('invalid_request', err.message)
    throw err
  }
}

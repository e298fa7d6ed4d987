// Query strings of the reporting and export routes, validated with zod; every problem names its
// field. Ranges are half-open [from, to); by default the twelve UTC months up to now.
import { parseRfc3339 } from '@meterkit/protocol'
import { z } from 'zod'
import { HttpError } from '../http-error.js'
import { describeIssues } from './json.js'

export const queryInstant = z.string().refine((s) => parseRfc3339(s) !== undefined, 'must be an RFC 3339 date-time')

export const rangeQuerySchema = z.object({ from: queryInstant.optional(), to: queryInstant.optional() })

/** Parses `query` with `schema`, answering 400 `invalid_request` naming the field. */
export function parseQuery<T extends z.ZodType>(schema: T, query: Record<string, string>): z.infer<T> {
  const parsed = schema.safeParse(query)
  if (!parsed.success) throw new HttpError('invalid_request', describeIssues(parsed.error), parsed.error.issues)
  return parsed.data
}

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

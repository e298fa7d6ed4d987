// POST /v1/events/import: NDJSON backfill with no lateness limit. Events go through the same
// path as live ones; each line gets a result, and only the lines not stored are listed.
import { ingestEvents } from '@meterkit/engine'
import { MAX_BATCH_EVENTS } from '@meterkit/protocol'
import { type OpenAPIHono, z } from '@hono/zod-openapi'
import type { AppContext } from '../app.js'
import { HttpError } from '../http-error.js'
import type { AuthEnv } from '../middleware/auth.js'
import { readBodyText } from '../middleware/body.js'
import { acceptedEvents } from '../live/index.js'
import { json, route } from '../openapi/index.js'

/** Decoded size of one import request. `meterkit import` sends large files in parts. */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024

interface LineError {
  line: number
  id: string | null
  code: string
  message: string
}

const importSummary = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  conflicts: z.number().int(),
  rejected: z.number().int(),
  errors: z.array(z.object({ line: z.number().int(), id: z.string().nullable(), code: z.string(), message: z.string() }))
    .meta({ description: 'Only the lines not accepted and not duplicates' }),
})

/** Declares POST /import on the events router. */
export function importRoute(app: OpenAPIHono<AuthEnv>, ctx: AppContext): void {
  route(app, {
    method: 'post', path: '/import', tags: ['Events'], summary: 'Backfill events',
    description: `NDJSON, one event a line, up to ${MAX_IMPORT_BYTES / 1024 / 1024} MiB decoded: no lateness limit. Imported events go through the same path as live ones; those in a finalized period become adjustments on the next invoice.`,
    request: {
      body: { required: true, content: { 'application/x-ndjson': { schema: z.string().meta({ description: 'One event (the `Event` schema) a line' }) } } },
    },
    responses: { 200: json(importSummary, 'What became of the lines') },
  }, async (c) => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/x-ndjson' && type !== 'application/jsonl') {
      throw new HttpError('unsupported_media_type', 'Content-Type must be application/x-ndjson (one event per line)')
    }
    const text = await readBodyText(c.req.raw, MAX_IMPORT_BYTES)
    const principal = c.get('principal')
    const summary = { accepted: 0, duplicates: 0, conflicts: 0, rejected: 0, errors: [] as LineError[] }
    let chunk: unknown[] = []
    let chunkLines: number[] = []

    const flush = async () => {
      if (chunk.length === 0) return
      let results
      try {
        results = await ingestEvents(ctx.store, chunk, {
          tenantId: principal.tenantId, source: 'import', nowMs: ctx.clock.now(), latenessWindowMs: undefined,
        })
      } catch (err) {
        throw new HttpError('unavailable', `events could not be stored (lines from ${chunkLines[0]} on were not imported; earlier lines were): ${(err as Error).message}`, { importedThroughLine: chunkLines[0]! - 1 }, { 'retry-after': '1' })
      }
      ctx.live.committed(principal.tenantId, acceptedEvents(chunk, results))
      results.forEach((r, i) => {
        if (r.status === 'accepted') summary.accepted++
        else if (r.status === 'duplicate') summary.duplicates++
        else if ('code' in r) {
          if (r.status === 'conflict') summary.conflicts++
          else summary.rejected++
          summary.errors.push({ line: chunkLines[i]!, id: r.id, code: r.code, message: `line ${chunkLines[i]}: ${r.message}` })
        }
      })
      chunk = []
      chunkLines = []
    }

    let lineNo = 0
    let start = 0
    while (start <= text.length) {
      let end = text.indexOf('\n', start)
      if (end === -1) end = text.length
      lineNo++
      const line = text.slice(start, end).trim()
      start = end + 1
      if (line === '') continue
      let parsed: unknown
      try {
        parsed = JSON.parse(line)
      } catch (err) {
        summary.rejected++
        summary.errors.push({ line: lineNo, id: null, code: 'invalid_json', message: `line ${lineNo}: not valid JSON: ${(err as Error).message}` })
        continue
      }
      chunk.push(parsed)
      chunkLines.push(lineNo)
      if (chunk.length === MAX_BATCH_EVENTS) await flush()
    }
    await flush()
    ctx.metrics.events.inc({ status: 'accepted' }, summary.accepted)
    return c.json(summary)
  })
}

// A JSON body read by a handler itself, validated with zod; every problem names its field. Routes
// declared with route() (src/openapi) get theirs read for them, with the same answers.
import { MAX_BATCH_BYTES } from '@meterkit/protocol'
import type { z } from 'zod'
import { HttpError } from '../http-error.js'
import { parseJson, readBodyText } from '../middleware/body.js'
import { describeIssues } from '../openapi/route.js'

export { describeIssues }

export async function readJsonBody<T extends z.ZodType>(
  request: Request,
  schema: T,
  options: { allowEmpty?: boolean } = {},
): Promise<z.infer<T>> {
  const text = await readBodyText(request, MAX_BATCH_BYTES)
  if (text.trim() === '' && options.allowEmpty) return schema.parse({})
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') throw new HttpError('unsupported_media_type', 'Content-Type must be application/json')
  const parsed = schema.safeParse(parseJson(text))
  if (!parsed.success) throw new HttpError('invalid_body', describeIssues(parsed.error), parsed.error.issues)
  return parsed.data
}

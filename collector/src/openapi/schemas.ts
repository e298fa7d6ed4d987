// Pieces every route spec uses: bodies, JSON answers, the error body, list pages and the common
// query parameters, each validating what it describes.
import { z } from '@hono/zod-openapi'
import {
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
  REQUEST_ERROR_STATUS,
  type RequestErrorCode,
  parseRfc3339,
} from '@meterkit/protocol'

/**
 * Any JSON value. Named, because the generator cannot inline a recursive schema; `.openapi()`, not
 * `.meta()`, because only it names the lazy schema inside `z.json()` too.
 */
export const jsonValue = z.json().openapi('JsonValue')

/** A JSON object of any JSON values (properties, metadata). */
export const jsonObject = z.record(z.string(), jsonValue)

/** An exact decimal in an answer; negative for credits, refunds and adjustments. Bodies take `decimalString`. */
export const decimal = z.string().regex(/^-?\d+(\.\d+)?$/, 'must be a decimal string such as "12.5" or "-3"')
  .meta({ description: 'An exact decimal, as a string', example: '12.5' })

export const instant = z.string().refine((s) => parseRfc3339(s) !== undefined, 'must be an RFC 3339 date-time')
  .meta({ format: 'date-time', example: '2026-11-25T10:00:00.000Z' })

/** An instant as answered: always UTC with milliseconds. */
export const timestamp = z.string().meta({ format: 'date-time', example: '2026-11-25T10:00:00.000Z' })

export const idPattern = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1–128 characters of A-Za-z0-9._:-')

const ERROR_CODES = Object.keys(REQUEST_ERROR_STATUS) as [RequestErrorCode, ...RequestErrorCode[]]

/** The contract's error body (CONTRACT §4): the code, a message naming the field and the rule. */
export const errorSchema = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES),
    message: z.string().meta({ description: 'What is wrong, starting with the field: `limit: must be a whole number from 1 to 1000`' }),
    details: z.unknown().optional().meta({ description: 'For bodies a schema refused: the list of issues, each with its `path` and `message`' }),
  }),
}).meta({ id: 'Error' })

export const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is malformed: a parameter or a body field breaks its rule (`invalid_request`, `invalid_body`, `invalid_json`)',
  401: 'No credential, or an unknown, revoked or expired one (`unauthorized`)',
  403: 'The credential may not do this: a key without the scope, or a customer token outside its routes (`forbidden`)',
  404: 'No such resource for this credential (`not_found`)',
  405: 'Method not allowed',
  409: 'The request conflicts with the resource\'s state (`conflict`, `idempotency_conflict`, `idempotency_in_progress`)',
  413: 'The decoded body is over its limit (`payload_too_large`)',
  415: 'The Content-Type or Content-Encoding is not one the route takes (`unsupported_media_type`)',
  429: 'Too many requests; retry after `Retry-After` seconds (`rate_limited`)',
  500: 'An internal error; the request may be retried (`internal`)',
  503: 'Storage is unavailable or the collector is shutting down; nothing was done, retry after `Retry-After` (`unavailable`)',
}

/** The error answer of one HTTP status. */
export function errorResponse(status: number) {
  return { description: ERROR_DESCRIPTIONS[status] ?? 'Error', content: { 'application/json': { schema: errorSchema } } }
}

/** Error answers a route gives beyond those every route of its kind gives (see document.ts). */
export function errors(...codes: RequestErrorCode[]) {
  const statuses = [...new Set(codes.map((code) => REQUEST_ERROR_STATUS[code]))]
  return Object.fromEntries(statuses.map((status) => [status, errorResponse(status)]))
}

/** A JSON answer. */
export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } }
}

/** A JSON request body (required: an empty body is refused as not JSON). */
export function body<T extends z.ZodType>(schema: T, description?: string) {
  return { required: true, ...(description === undefined ? {} : { description }), content: { 'application/json': { schema } } }
}

/** A JSON request body that may be left out: an empty body reads as `{}`. */
export function optionalBody<T extends z.ZodType>(schema: T, description?: string) {
  return { required: false, ...(description === undefined ? {} : { description }), content: { 'application/json': { schema } } }
}

/** A page of a cursor-paged list. */
export function page<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page' }),
  })
}

/** `limit`: 1–1000 items a page (default 100); `Number()` of the text, as before schemas read it. */
export const limitQuery = z.coerce
  .number({ error: `must be a whole number from 1 to ${MAX_LIST_LIMIT}` })
  .int(`must be a whole number from 1 to ${MAX_LIST_LIMIT}`)
  .min(1, `must be a whole number from 1 to ${MAX_LIST_LIMIT}`)
  .max(MAX_LIST_LIMIT, `must be a whole number from 1 to ${MAX_LIST_LIMIT}`)
  .default(DEFAULT_LIST_LIMIT)
  .meta({ description: `Items a page, 1–${MAX_LIST_LIMIT} (default ${DEFAULT_LIST_LIMIT})`, type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT, default: DEFAULT_LIST_LIMIT })

export const cursorQuery = z.string().optional().meta({ description: 'The `nextCursor` of the previous page' })

/** The query of a cursor-paged list. */
export const pageQuery = z.object({ cursor: cursorQuery, limit: limitQuery })

/** A path parameter; every one is a string, validated by the route that reads it. */
export function pathParams<K extends string>(...names: K[]) {
  return z.object(Object.fromEntries(names.map((name) => [name, z.string()])) as Record<K, z.ZodString>)
}

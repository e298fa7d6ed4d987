// Error codes and the error body used by every endpoint (CONTRACT §4).
import { z } from 'zod'

/** Codes of whole-request errors, with the HTTP status each one answers. */
export const REQUEST_ERROR_STATUS = {
  invalid_json: 400,
  invalid_body: 400,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  /** An Idempotency-Key reused with another request body. */
  idempotency_conflict: 409,
  /** An Idempotency-Key whose first request has not finished. */
  idempotency_in_progress: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const

export type RequestErrorCode = keyof typeof REQUEST_ERROR_STATUS

/** Codes of a per-event `rejected` result. */
export const EVENT_ERROR_CODES = [
  'invalid_event_object',
  'invalid_id',
  'invalid_event',
  'invalid_customer',
  'invalid_timestamp',
  'timestamp_in_future',
  'timestamp_too_old',
  'invalid_properties',
  'invalid_reservation',
  'event_too_large',
  'forbidden_customer',
  'forbidden_event',
] as const

export type EventErrorCode = (typeof EVENT_ERROR_CODES)[number]

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
})

export type ErrorBody = z.infer<typeof errorBodySchema>

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return details === undefined ? { error: { code, message } } : { error: { code, message, details } }
}

// Readers of the collector's answers for the SDKs, written without zod: the browser and edge
// bundles must stay a few KiB. They check what a client relies on, no more: each result's
// status (which decides delivered, rejected or retried), and an error's code and message.
import type { EventResult } from './batch.js'

const STATUSES = new Set(['accepted', 'duplicate', 'conflict', 'rejected', 'queued'])

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

/** The per-event results of a `POST /v1/events` answer, or undefined when the body is not one. */
export function readBatchResults(body: unknown): EventResult[] | undefined {
  const results = isObject(body) ? body.results : undefined
  return Array.isArray(results) && results.every((r) => isObject(r) && STATUSES.has(r.status as string)) ? (results as EventResult[]) : undefined
}

/** `{ error: { code, message } }` of any error answer, or undefined when the body is not one. */
export function readErrorBody(body: unknown): { code: string; message: string } | undefined {
  const error = isObject(body) ? body.error : undefined
  return isObject(error) && typeof error.code === 'string' && typeof error.message === 'string' ? (error as { code: string; message: string }) : undefined
}

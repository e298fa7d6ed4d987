// Readers of the collector's answers for the SDKs, written without zod: the browser and edge
// bundles must stay a few KiB, and these two shapes are all a client ever parses.
import type { EventResult } from './batch.js'

const STATUSES = new Set(['accepted', 'duplicate', 'conflict', 'rejected'])

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The per-event results of a `POST /v1/events` answer, or undefined when the body is not one. */
export function readBatchResults(body: unknown): EventResult[] | undefined {
  if (!isObject(body) || !Array.isArray(body.results)) return undefined
  for (const key of ['accepted', 'duplicates', 'conflicts', 'rejected']) {
    const n = body[key]
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return undefined
  }
  for (const r of body.results as unknown[]) {
    if (!isObject(r) || !STATUSES.has(r.status as string)) return undefined
    if (r.id !== null && typeof r.id !== 'string') return undefined
    if ((r.code !== undefined && typeof r.code !== 'string') || (r.message !== undefined && typeof r.message !== 'string')) return undefined
  }
  return body.results as EventResult[]
}

/** `{ error: { code, message } }` of any error answer, or undefined when the body is not one. */
export function readErrorBody(body: unknown): { code: string; message: string; details?: unknown } | undefined {
  if (!isObject(body) || !isObject(body.error)) return undefined
  const { code, message, details } = body.error
  if (typeof code !== 'string' || typeof message !== 'string') return undefined
  return details === undefined ? { code, message } : { code, message, details }
}

// The customer's figures through the collector's read routes (CONTRACT §4 shapes): quotes,
// usage, balance. Loaded on the first read, so a page that only tracks never downloads it; it
// imports nothing (the error is made by the caller), so that bundlers without code splitting
// inline it alone.
import type { FetchTransport } from '@meterkit/core'

export interface Quote {
  credits: string
  amount: string
  currency: string
  lines: unknown[]
}

export interface UsageGroup {
  group: Record<string, unknown>
  value: string | null
}

export interface Usage {
  meter: string
  from: string
  to: string
  window: 'hour' | 'day' | 'month' | 'none'
  configVersion: number
  value: string | null
  groups?: UsageGroup[]
  buckets?: { start: string; end: string; value: string | null; groups?: UsageGroup[] }[]
}

export interface Balance {
  balance: string
  available: string
  reserved: string
  grants: { id: string; credits: string; remaining: string; priority: number; effectiveAt: string; expiresAt: string | null }[]
}

export interface UsageQuery {
  meter: string
  from?: Date | string
  to?: Date | string
  window?: Usage['window']
  groupBy?: string[]
}

/** Builds the error of a failed request from the answer's status (none: a network fault) and body. */
export type RequestFailure = (status: number | undefined, body: unknown) => Error

export async function request<T>(transport: FetchTransport, fail: RequestFailure, method: string, path: string, body?: unknown): Promise<T> {
  const res = await transport.exchange(method, path, body === undefined ? undefined : JSON.stringify(body))
  if (!res.ok) throw fail(undefined, { error: { code: res.error, message: res.message } })
  let json: unknown
  try {
    json = JSON.parse(res.body)
  } catch {
    // below
  }
  if (res.status < 300 && json !== undefined) return json as T
  throw fail(res.status, json)
}

/** `?meter=…&from=…` of a usage query: dates as RFC 3339, dimensions comma-separated. */
export function usageSearch(query: UsageQuery): string {
  const params = new URLSearchParams()
  for (const [key, v] of Object.entries(query)) {
    if (v !== undefined) params.set(key, v instanceof Date ? v.toISOString() : String(v))
  }
  return params.toString()
}

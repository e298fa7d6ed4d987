// The customer's figures through the collector's read routes (CONTRACT §4 shapes): quotes,
// usage, balance. Failures reject with a MeterkitRequestError naming the collector's code.
import { MeterkitError, type FetchTransport } from '@meterkit/core'
import { readErrorBody } from '@meterkit/protocol'

/** A request to the collector failed: `code` is the collector's error code, or network / timeout. */
export class MeterkitRequestError extends MeterkitError {
  constructor(code: string, message: string, readonly httpStatus?: number) {
    super(code, message)
  }
}

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

export async function request<T>(transport: FetchTransport, method: string, path: string, body?: unknown): Promise<T> {
  const res = await transport.exchange(method, path, body === undefined ? undefined : JSON.stringify(body))
  if (!res.ok) throw new MeterkitRequestError(res.error, res.message)
  let json: unknown
  try {
    json = JSON.parse(res.body)
  } catch {
    // below
  }
  if (res.status < 300 && json !== undefined) return json as T
  const error = readErrorBody(json)
  throw new MeterkitRequestError(error?.code ?? `http_${res.status}`, error?.message ?? `HTTP ${res.status}`, res.status)
}

/** `?meter=…&from=…` of a usage query: dates as RFC 3339, dimensions comma-separated. */
export function usageSearch(query: UsageQuery): string {
  const params = new URLSearchParams()
  for (const [key, v] of Object.entries(query)) {
    if (v !== undefined) params.set(key, v instanceof Date ? v.toISOString() : String(v))
  }
  return params.toString()
}

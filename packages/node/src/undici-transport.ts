// POST /v1/events over undici: a dedicated keep-alive pool, one deadline covering the whole
// exchange (body read included), the body always consumed, gzip for large batches, and one
// immediate retry when a reused keep-alive socket turns out to be dead.
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import type { ApiRequest, Transport, TransportRequest, TransportResult } from '@meterkit/core'
import { Pool, request, type Dispatcher } from 'undici'

const gzipAsync = promisify(gzip)

export interface UndiciTransportOptions {
  /** Collector base URL, e.g. http://127.0.0.1:8790 */
  endpoint: string
  apiKey: string
  /** Per request, body read included (default 10000). */
  timeoutMs?: number
  /** Bodies at least this large are sent gzipped (default 64 KiB). */
  gzipMinBytes?: number
  /** Keep-alive connections to the collector (default 4). */
  connections?: number
  /** Use this dispatcher instead of a private pool (tests pass undici's MockAgent). */
  dispatcher?: Dispatcher
  userAgent?: string
}

/** Errors that mean "the socket died under us", typically a keep-alive socket the server closed. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'])

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null
  if (typeof e?.code === 'string') return e.code
  if (typeof e?.cause?.code === 'string') return e.cause.code
  return undefined
}

export class UndiciTransport implements Transport {
  private readonly url: URL
  private readonly base: string
  private readonly headers: Record<string, string>
  private readonly timeoutMs: number
  private readonly gzipMinBytes: number
  private readonly dispatcher: Dispatcher
  private readonly ownsDispatcher: boolean
  private closed = false

  constructor(options: UndiciTransportOptions) {
    const base = options.endpoint.endsWith('/') ? options.endpoint : `${options.endpoint}/`
    this.base = base
    this.url = new URL('v1/events', base)
    this.timeoutMs = options.timeoutMs ?? 10_000
    this.gzipMinBytes = options.gzipMinBytes ?? 64 * 1024
    this.headers = {
      authorization: `Bearer ${options.apiKey}`,
      'content-type': 'application/json',
      'user-agent': options.userAgent ?? 'meterkit-node',
    }
    this.ownsDispatcher = options.dispatcher === undefined
    this.dispatcher = options.dispatcher ?? new Pool(this.url.origin, {
      connections: options.connections ?? 4,
      keepAliveTimeout: 30_000,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    })
  }

  async send(req: TransportRequest): Promise<TransportResult> {
    if (this.closed) return { ok: false, error: 'network', message: 'transport closed' }
    let body: string | Buffer = req.body
    let headers = this.headers
    if (req.body.length >= this.gzipMinBytes || Buffer.byteLength(req.body) >= this.gzipMinBytes) {
      body = await gzipAsync(req.body)
      headers = { ...this.headers, 'content-encoding': 'gzip' }
    }
    const first = await this.once(this.url, 'POST', body, headers)
    if (first.ok || first.stale !== true || this.closed) return first.result
    return (await this.once(this.url, 'POST', body, headers)).result
  }

  /** A JSON call to another endpoint (reservations), through the same pool and deadline. */
  async call(req: ApiRequest): Promise<TransportResult> {
    if (this.closed) return { ok: false, error: 'network', message: 'transport closed' }
    const url = new URL(req.path, this.base)
    const first = await this.once(url, req.method, req.body, this.headers)
    if (first.ok || first.stale !== true || this.closed) return first.result
    return (await this.once(url, req.method, req.body, this.headers)).result
  }

  private async once(
    url: URL,
    method: 'GET' | 'POST',
    body: string | Buffer | undefined,
    headers: Record<string, string>,
  ): Promise<{ ok: boolean; stale?: boolean; result: TransportResult }> {
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, this.timeoutMs)
    timer.unref()
    try {
      const res = await request(url, { method, headers, body, dispatcher: this.dispatcher, signal: controller.signal })
      // Always read the body: an unread body pins the connection.
      const text = await res.body.text()
      const retryAfter = res.headers['retry-after']
      return {
        ok: true,
        result: { ok: true, status: res.statusCode, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, body: text },
      }
    } catch (err) {
      const code = errorCode(err)
      const timeout = timedOut || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT'
      const message = `${err instanceof Error ? err.message : String(err)}${code ? ` (${code})` : ''}`
      return {
        ok: false,
        stale: !timeout && code !== undefined && STALE_SOCKET_CODES.has(code),
        result: { ok: false, error: timeout ? 'timeout' : 'network', message: timeout ? `no answer within ${this.timeoutMs} ms` : message },
      }
    } finally {
      clearTimeout(timer)
    }
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.ownsDispatcher) await this.dispatcher.destroy()
  }
}

// The collector over the Web-standard fetch, for runtimes without a better HTTP client (browsers,
// edge functions): one deadline per request with the body read included, failures as values,
// and one resend after credentials that expired were renewed (browser tokens).
import { systemTimers, type Timers } from './time.js'
import type { ApiRequest, Transport, TransportRequest, TransportResult } from './transport.js'

/** The part of `fetch` used here, so any runtime's (or a test's) implementation fits. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal; keepalive?: boolean },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>

export interface FetchTransportOptions {
  /** Collector base URL, e.g. http://127.0.0.1:8790 */
  endpoint: string
  /** The `Authorization` header value, asked for per request (tokens may change). */
  authorization: () => string
  /** Per request, body read included (default 10000). */
  timeoutMs?: number
  /** Let requests outlive the page that sent them (browsers; bodies must stay under 64 KiB). */
  keepalive?: boolean
  /** Called after a 401: resolves true when the credentials were renewed, and the request is sent once more. */
  renew?: () => Promise<boolean>
  fetch?: FetchLike
  timers?: Timers
}

export class FetchTransport implements Transport {
  readonly endpoint: string
  readonly #options: FetchTransportOptions
  readonly #timeoutMs: number
  readonly #timers: Timers
  #closed = false

  constructor(options: FetchTransportOptions) {
    this.#options = options
    this.endpoint = options.endpoint.replace(/\/+$/, '')
    this.#timeoutMs = options.timeoutMs ?? 10_000
    this.#timers = options.timers ?? systemTimers
  }

  send(request: TransportRequest): Promise<TransportResult> {
    return this.exchange('POST', '/v1/events', request.body)
  }

  call(request: ApiRequest): Promise<TransportResult> {
    return this.exchange(request.method, `/${request.path}`, request.body)
  }

  /** One request to the collector (any route); a 401 is answered again after a renewal. */
  async exchange(method: string, path: string, body?: string): Promise<TransportResult> {
    const first = await this.#once(method, path, body)
    if (!first.ok || first.status !== 401 || this.#options.renew === undefined || this.#closed) return first
    return (await this.#options.renew().catch(() => false)) ? this.#once(method, path, body) : first
  }

  async #once(method: string, path: string, body: string | undefined): Promise<TransportResult> {
    if (this.#closed) return { ok: false, error: 'network', message: 'transport closed' }
    const fetchImpl = this.#options.fetch ?? (globalThis as unknown as { fetch: FetchLike }).fetch
    const controller = new AbortController()
    let timedOut = false
    const timer = this.#timers.setTimeout(() => {
      timedOut = true
      controller.abort()
    }, this.#timeoutMs)
    try {
      const headers: Record<string, string> = { authorization: this.#options.authorization() }
      if (body !== undefined) headers['content-type'] = 'application/json'
      const res = await fetchImpl(this.endpoint + path, {
        method,
        headers,
        body,
        signal: controller.signal,
        // Only small bodies: browsers refuse keepalive requests past a 64 KiB quota shared by
        // every request in flight and the beacons of an unload.
        keepalive: this.#options.keepalive === true && (body === undefined || body.length < 20_000),
      })
      const text = await res.text()
      return { ok: true, status: res.status, retryAfter: res.headers.get('retry-after') ?? undefined, body: text }
    } catch (err) {
      return timedOut
        ? { ok: false, error: 'timeout', message: `no answer within ${this.#timeoutMs} ms` }
        : { ok: false, error: 'network', message: err instanceof Error ? err.message : String(err) }
    } finally {
      this.#timers.clearTimeout(timer)
    }
  }

  async close(): Promise<void> {
    this.#closed = true
  }
}

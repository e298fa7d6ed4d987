// @meterkit/browser: the Meterkit client for web pages, authenticated with a customer token.
// Core does queueing, batching, retries and buffer replay; this package wires in a keepalive
// fetch transport, an IndexedDB buffer, sendBeacon when the page is hidden or left, and the
// customer's quotes, usage, balance and live updates.
import { FetchTransport, Meterkit as CoreMeterkit, MeterkitError, type MeterkitCoreOptions, type TrackInput } from '@meterkit/core'
import { readErrorBody } from '@meterkit/protocol'
import type { Balance, Quote, RequestFailure, Usage, UsageQuery } from './api.js'
import { IdbBuffer } from './idb-buffer.js'
import type { LiveListener, LiveStream } from './live.js'
import { Token, type TokenOption } from './token.js'

/** Bodies stay under the 64 KiB that browsers allow keepalive requests and beacons in flight. */
const UNLOAD_MAX_BYTES = 60_000

export interface MeterkitOptions extends Omit<MeterkitCoreOptions, 'transport' | 'buffer'> {
  /** Collector base URL, e.g. https://meter.example.com */
  endpoint: string
  /**
   * A customer token (`mk_ct_…`, minted by your backend), or a function that fetches a fresh
   * one: it is called at start and again whenever the collector refuses the current one.
   */
  token: TokenOption
  /** The token's customer: the default customerId of track(), the subject of the reads. */
  customerId: string
  /** Per request, body read included (default 10000). */
  timeoutMs?: number
  /** Keep unsent events in IndexedDB, sent on the next page load (default true where available). */
  persist?: boolean
  /** Events kept in IndexedDB at most (default 10000); past it the newest go to onDrop. */
  maxBufferEvents?: number
}

/** A read (quote, usage, balance) failed: `code` is the collector's error code, or network / timeout. */
export class MeterkitRequestError extends MeterkitError {
  constructor(code: string, message: string, readonly httpStatus?: number) {
    super(code, message)
  }
}

const requestFailure: RequestFailure = (status, body) => {
  const error = readErrorBody(body)
  return new MeterkitRequestError(error?.code ?? `http_${status}`, error?.message ?? `HTTP ${status}`, status)
}

export type BrowserTrackInput = Omit<TrackInput, 'customerId'> & { customerId?: string }

export class Meterkit extends CoreMeterkit {
  readonly customerId: string
  readonly #token: Token
  readonly #ready: Promise<unknown>
  readonly #endpoint: string
  readonly #transport: FetchTransport
  #live: Promise<LiveStream> | undefined
  readonly #unlisten: () => void

  constructor(options: MeterkitOptions) {
    if (typeof options?.endpoint !== 'string' || options.token === undefined || typeof options.customerId !== 'string') {
      throw new TypeError('new Meterkit({ endpoint, token, customerId }): all are required')
    }
    const { endpoint, token, customerId, timeoutMs, persist, maxBufferEvents, ...core } = options
    const tokens = new Token(token)
    const transport = new FetchTransport({
      endpoint, timeoutMs, timers: core.timers, keepalive: true,
      authorization: () => `Bearer ${tokens.current}`,
      renew: () => tokens.renew(),
    })
    const buffer = persist !== false && typeof indexedDB !== 'undefined'
      ? new IdbBuffer(`meterkit:${transport.endpoint}:${customerId}`, maxBufferEvents ?? 10_000)
      : undefined
    super({
      maxConcurrentRequests: 1,
      ...core,
      maxBatchBytes: Math.min(core.maxBatchBytes ?? UNLOAD_MAX_BYTES, UNLOAD_MAX_BYTES),
      transport,
      buffer,
    })
    this.customerId = customerId
    this.#endpoint = transport.endpoint
    this.#transport = transport
    this.#token = tokens
    tokens.onError = (e) => this.delivery.error(e)
    this.#ready = tokens.renew()
    this.#unlisten = this.#listen()
  }

  /** Like core's, with this client's customer by default. */
  override track(input: BrowserTrackInput): string {
    return super.track({ customerId: this.customerId, ...input } as TrackInput)
  }

  /** Prices a hypothetical event for this customer (`POST /v1/quotes`). */
  quote(input: { event: string; properties?: Record<string, unknown> }): Promise<Quote> {
    return this.#request('POST', '/v1/quotes', { customerId: this.customerId, event: input.event, properties: input.properties ?? {} })
  }

  /** This customer's usage of a meter (`GET /v1/customers/:id/usage`). */
  usage(query: UsageQuery): Promise<Usage> {
    return this.#request('GET', this.#path('/usage'), undefined, query)
  }

  /** This customer's credit balance (`GET /v1/customers/:id/balance`). */
  balance(): Promise<Balance> {
    return this.#request('GET', this.#path('/balance'))
  }

  /** Live `usage` and `balance` updates of this customer; answers the function that unsubscribes. */
  subscribe(listener: LiveListener): () => void {
    this.#live ??= import('./live.js').then(({ LiveStream }) => new LiveStream(
      (last) => this.#withToken(`${this.#path('/stream')}${last ? `?lastEventId=${encodeURIComponent(last)}&` : '?'}`),
      () => this.#token.renew(),
      (code, message) => this.delivery.error(new MeterkitError(code, message)),
    ))
    let unsubscribe: (() => void) | undefined
    let active = true
    void this.#live.then((live) => {
      if (active) unsubscribe = live.subscribe(listener)
    })
    return () => {
      active = false
      unsubscribe?.()
    }
  }

  async #request<T>(method: string, path: string, body?: unknown, query?: UsageQuery): Promise<T> {
    const [{ request, usageSearch }] = await Promise.all([import('./api.js'), this.#ready])
    return request<T>(this.#transport, requestFailure, method, query === undefined ? path : `${path}?${usageSearch(query)}`, body)
  }

  override shutdown(options?: { timeoutMs?: number }): Promise<void> {
    this.#unlisten()
    return super.shutdown(options)
  }

  #path(route: string): string {
    return `/v1/customers/${encodeURIComponent(this.customerId)}${route}`
  }

  /** The collector URL of `pathAndQuery` (ending in `?` or `&`) with the token, once there is one. */
  #withToken(pathAndQuery: string): string | undefined {
    const token = this.#token.current
    return token === undefined ? undefined : `${this.#endpoint}${pathAndQuery}token=${encodeURIComponent(token)}`
  }

  /** Hands what is queued to sendBeacon (CORS-simple: text/plain, the token in the URL). */
  #beacon(body: string): boolean {
    const url = this.#withToken('/v1/events?')
    try {
      return url !== undefined && navigator.sendBeacon(url, body)
    } catch {
      return false
    }
  }

  /** Page lifecycle: hidden or left, send what waits by beacon; back online, retry at once. */
  #listen(): () => void {
    if (typeof document === 'undefined') return () => undefined
    const hide = () => this.handOff((body) => this.#beacon(body), UNLOAD_MAX_BYTES)
    const visibility = () => {
      if (document.visibilityState === 'hidden') hide()
    }
    const online = () => this.retryNow()
    addEventListener('pagehide', hide)
    addEventListener('online', online)
    document.addEventListener('visibilitychange', visibility)
    return () => {
      removeEventListener('pagehide', hide)
      removeEventListener('online', online)
      document.removeEventListener('visibilitychange', visibility)
    }
  }
}

export type { Balance, Quote, Usage, UsageGroup, UsageQuery } from './api.js'
export type { LiveListener, LiveUpdate } from './live.js'
export {
  MeterkitError,
  MeterkitValidationError,
  MeterkitEventError,
  MeterkitDeliveryError,
  MeterkitBufferError,
  type DropReason,
  type MeterkitStats,
  type TrackInput,
} from '@meterkit/core'

// @meterkit/edge: the Meterkit client for edge functions. Core does queueing, batching and
// retries; this package wires in a fetch transport and sends each request's events at once,
// handing every pending delivery to `waitUntil` so that it outlives the response.
import {
  type CallContext, FetchTransport, MeterkitBase, type FetchLike, type MeterkitCoreOptions, type Release, type Reservation, type ReserveInput, type TrackInput,
  systemClock, systemTimers,
} from '@meterkit/core'
import { runtimeWaitUntil, type WaitUntil } from './wait-until.js'

export interface MeterkitOptions extends Omit<MeterkitCoreOptions, 'transport' | 'buffer'> {
  /** Collector base URL, e.g. https://meter.example.com */
  endpoint: string
  /** Secret key (`mk_sec_…`), from the function's environment. */
  apiKey: string
  /** Per request, body read included (default 10000). */
  timeoutMs?: number
  /**
   * Keeps the function alive for a delivery after the response (Workers: `ctx.waitUntil.bind(ctx)`).
   * Default: the runtime's own where it exposes one (Vercel, Netlify); without any, call
   * `ctx.waitUntil(mk.flush())` yourself.
   */
  waitUntil?: WaitUntil
  /** The fetch to send with (default the global one). */
  fetch?: FetchLike
}

export class Meterkit extends MeterkitBase {
  private readonly waitUntil: WaitUntil | undefined
  private pending: Promise<void> | undefined
  readonly #api: CallContext

  constructor(options: MeterkitOptions) {
    if (typeof options?.endpoint !== 'string' || typeof options.apiKey !== 'string') {
      throw new TypeError('new Meterkit({ endpoint, apiKey }): both are required strings')
    }
    const { endpoint, apiKey, timeoutMs, waitUntil, fetch, ...core } = options
    const authorization = `Bearer ${apiKey}`
    const transport = new FetchTransport({ endpoint, timeoutMs, fetch, timers: core.timers, authorization: () => authorization })
    // Few retries: a function lives a few seconds after its response, not the minutes of a full backoff.
    super({ maxRetries: 3, ...core, transport })
    this.waitUntil = waitUntil
    this.#api = { transport, clock: core.clock ?? systemClock, timers: core.timers ?? systemTimers, random: core.random ?? Math.random, attempts: 3 }
  }

  /** Holds credits for a job before it starts (loaded on first use: tracking pays nothing for it). */
  async reserve(input: ReserveInput): Promise<Reservation> {
    const { reserveCredits } = await import('./reservations.js')
    return reserveCredits(this.#api, input)
  }

  /** Frees a reservation's hold. */
  async release(id: string): Promise<Release> {
    const { releaseCredits } = await import('./reservations.js')
    return releaseCredits(this.#api, id)
  }

  /** Queues the event; the events tracked in one turn of the handler go out together right after it. */
  override track(input: TrackInput): string {
    const id = super.track(input)
    if (this.pending === undefined) {
      const delivery = Promise.resolve().then(() => {
        this.pending = undefined
        return this.flush()
      })
      this.pending = delivery
      ;(this.waitUntil ?? runtimeWaitUntil())?.(delivery)
    }
    return id
  }
}

export { runtimeWaitUntil, type WaitUntil } from './wait-until.js'
export {
  MeterkitError,
  MeterkitValidationError,
  MeterkitEventError,
  MeterkitDeliveryError,
  type DropReason,
  type MeterkitStats,
  type TrackInput,
  type FetchLike,
} from '@meterkit/core'

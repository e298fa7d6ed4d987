// Delivers the webhook outbox: every interval, due deliveries are POSTed, signed per attempt
// (Standard Webhooks headers), with at most `concurrency` requests in flight. A 2xx delivers;
// anything else, a timeout or a network error leaves the delivery for the outbox's backoff.
// One read of the outbox at a time; a read's deliveries are leased together and their requests
// start in the outbox's order (longest-waiting first), whatever order the leases answer in.
import { type AttemptResult, type Clock, DELIVERY_LEASE_MS, type DueWebhook, type WebhookStore, signWebhook } from '@meterkit/engine'
import { guardedFetch } from './webhook-fetch.js'
import { WebhookUrlPolicy } from './webhook-url-policy.js'

export interface DispatcherTimers {
  setInterval(fn: () => void, ms: number): { unref?(): void }
  clearInterval(handle: unknown): void
  setTimeout(fn: () => void, ms: number): { unref?(): void }
  clearTimeout(handle: unknown): void
}

export interface WebhookDispatcherOptions {
  clock: Clock
  /** How often due deliveries are looked for, in ms (default 1000; 0 turns delivery off). */
  intervalMs?: number
  /** Requests in flight at most (default 8). */
  concurrency?: number
  /** Requests in flight to one URL at most (default 2), so one slow endpoint cannot hold every slot. */
  perEndpoint?: number
  /** Per request, the response's status and the start of its body included, in ms (default 10000). */
  timeoutMs?: number
  /** Where deliveries may go (default: public addresses only). */
  urls?: WebhookUrlPolicy
  /** Default: undici's fetch with every connection judged by `urls`. */
  fetch?: typeof fetch
  timers?: DispatcherTimers
  log?: (level: 'error' | 'warn' | 'info', message: string, fields?: Record<string, unknown>) => void
}

/** A delivery being sent; `sending` while its request waits for the endpoint's answer. */
interface InFlight {
  url: string
  abort: AbortController
  sending: boolean
  done: Promise<void>
}

/** How much of a failing endpoint's answer is kept as the delivery's last error. */
const ERROR_BODY_BYTES = 512

export class WebhookDispatcher {
  private readonly intervalMs: number
  private readonly concurrency: number
  private readonly perEndpoint: number
  private readonly timeoutMs: number
  private readonly fetch: typeof fetch
  private readonly urls: WebhookUrlPolicy
  private readonly timers: DispatcherTimers
  private readonly log: NonNullable<WebhookDispatcherOptions['log']>
  private readonly inFlight = new Map<string, InFlight>()
  private handle: { unref?(): void } | undefined
  private stopping = false
  /** A tick is reading the outbox: ticks meanwhile start nothing (the read would answer the same rows). */
  private reading = false
  private idleWaiters: (() => void)[] = []

  constructor(private readonly webhooks: WebhookStore, private readonly options: WebhookDispatcherOptions) {
    this.intervalMs = options.intervalMs ?? 1000
    this.concurrency = options.concurrency ?? 8
    this.perEndpoint = options.perEndpoint ?? 2
    this.timeoutMs = options.timeoutMs ?? 10_000
    this.urls = options.urls ?? new WebhookUrlPolicy()
    this.fetch = options.fetch ?? guardedFetch(this.urls)
    this.timers = options.timers ?? globalThis
    this.log = options.log ?? (() => undefined)
  }

  start(): void {
    if (this.intervalMs <= 0 || this.handle !== undefined) return
    this.stopping = false
    this.handle = this.timers.setInterval(() => void this.tick(), this.intervalMs)
    this.handle.unref?.()
  }

  /**
   * Starts due deliveries up to the concurrency limit; resolves when those have been recorded.
   * While another tick is reading the outbox, starts nothing and resolves at once.
   */
  async tick(): Promise<void> {
    if (this.stopping || this.reading || this.inFlight.size >= this.concurrency) return
    this.reading = true
    let started: Promise<void>[] = []
    try {
      // A window wider than the free slots: rows for busy endpoints are passed over for others.
      const due = await this.webhooks.due(this.options.clock.now(), this.inFlight.size + Math.max(100, 4 * this.concurrency))
      started = this.startDue(due)
    } catch (err) {
      this.log('error', 'reading due webhooks failed; will retry', { error: String(err) })
    } finally {
      this.reading = false
      this.wakeIfIdle()
    }
    await Promise.all(started)
  }

  /**
   * Resolves once the dispatcher waits on endpoints alone: no read of the outbox under way, and
   * every delivery in flight has its request out (no lease or record of it pending). Tests step
   * through deliveries with it, since on PostgreSQL every one of those is a round trip.
   */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Stops looking for deliveries and cuts those in flight; they stay due and go out after a restart. */
  async stop(): Promise<void> {
    if (this.handle !== undefined) this.timers.clearInterval(this.handle)
    this.handle = undefined
    this.stopping = true
    const pending = [...this.inFlight.values()]
    for (const p of pending) p.abort.abort(new Error('the collector is shutting down'))
    await Promise.all(pending.map((p) => p.done))
  }

  /** Leases the deliveries to start among `due`, and starts their requests in `due`'s order. */
  private startDue(due: readonly DueWebhook[]): Promise<void>[] {
    const perUrl = new Map<string, number>()
    for (const { url } of this.inFlight.values()) perUrl.set(url, (perUrl.get(url) ?? 0) + 1)
    const picked: DueWebhook[] = []
    for (const delivery of due) {
      if (this.stopping || this.inFlight.size + picked.length >= this.concurrency) break
      const busy = perUrl.get(delivery.url) ?? 0
      if (this.inFlight.has(delivery.id) || busy >= this.perEndpoint) continue
      perUrl.set(delivery.url, busy + 1)
      picked.push(delivery)
    }
    const leasedAt = this.options.clock.now()
    const heldUntil = leasedAt + DELIVERY_LEASE_MS
    // The lease keeps the other collectors on the same database from sending it too. Every
    // request waits for all the leases: they answer in any order, the requests go out in order.
    const leases = Promise.allSettled(picked.map((d) => this.webhooks.lease(d.id, leasedAt, heldUntil)))
    return picked.map((delivery, i) => this.deliver(delivery, heldUntil, leases.then((all) => all[i]!)))
  }

  private deliver(delivery: DueWebhook, heldUntil: number, lease: Promise<PromiseSettledResult<boolean>>): Promise<void> {
    const flight: InFlight = { url: delivery.url, abort: new AbortController(), sending: false, done: Promise.resolve() }
    this.inFlight.set(delivery.id, flight)
    flight.done = this.send(delivery, flight, heldUntil, lease)
    return flight.done
  }

  private async send(delivery: DueWebhook, flight: InFlight, heldUntil: number, lease: Promise<PromiseSettledResult<boolean>>): Promise<void> {
    try {
      const held = await lease
      if (held.status === 'rejected') throw held.reason
      if (!held.value) return
      const result = await this.attempt(delivery, flight)
      // Cut by stop(): handed back, due at once for whichever collector runs next.
      if (result === undefined) await this.webhooks.lease(delivery.id, heldUntil, this.options.clock.now())
      else await this.webhooks.recordAttempt(delivery.id, result)
    } catch (err) {
      this.log('error', 'recording a webhook attempt failed; it will be sent again', { id: delivery.id, error: String(err) })
    } finally {
      this.inFlight.delete(delivery.id)
      this.wakeIfIdle()
    }
  }

  private isIdle(): boolean {
    if (this.reading) return false
    for (const flight of this.inFlight.values()) if (!flight.sending) return false
    return true
  }

  private wakeIfIdle(): void {
    if (this.idleWaiters.length > 0 && this.isIdle()) for (const wake of this.idleWaiters.splice(0)) wake()
  }

  /** One POST; undefined when it was cut by `stop()` (nothing is recorded, so it is sent again). */
  private async attempt(delivery: DueWebhook, flight: InFlight): Promise<AttemptResult | undefined> {
    const { abort } = flight
    const timeout = this.timers.setTimeout(() => abort.abort(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs)
    timeout.unref?.()
    const timestampSeconds = Math.floor(this.options.clock.now() / 1000)
    try {
      // Judged again at each attempt: the endpoint may have been added when the rules differed.
      const form = this.urls.judgeForm(delivery.url)
      if (!form.ok) return { ok: false, error: `webhook refused: ${form.reason}`, nowMs: this.options.clock.now() }
      flight.sending = true
      // Those waiting in idle() resume on a later microtask, once fetch() below has been called.
      this.wakeIfIdle()
      const res = await this.fetch(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Meterkit-Webhooks/1',
          'webhook-id': delivery.id,
          'webhook-timestamp': String(timestampSeconds),
          'webhook-signature': signWebhook({ id: delivery.id, timestampSeconds, body: delivery.body, secret: delivery.secret }),
        },
        body: delivery.body,
        // A redirect is a failure (Standard Webhooks): the endpoint's URL should be updated instead.
        redirect: 'manual',
        signal: abort.signal,
      }).finally(() => {
        flight.sending = false
      })
      const nowMs = this.options.clock.now()
      if (res.status >= 200 && res.status < 300) {
        await res.body?.cancel().catch(() => undefined)
        return { ok: true, status: res.status, nowMs }
      }
      const text = await bodyStart(res, ERROR_BODY_BYTES)
      return { ok: false, status: res.status, error: `HTTP ${res.status}${text ? `: ${text}` : ''}`, retryAfterMs: retryAfterMs(res.headers.get('retry-after'), nowMs), nowMs }
    } catch (err) {
      if (this.stopping) return undefined
      const reason = abort.signal.aborted ? abort.signal.reason : err
      return { ok: false, error: errorText(reason), nowMs: this.options.clock.now() }
    } finally {
      this.timers.clearTimeout(timeout)
    }
  }
}

async function bodyStart(res: Response, maxBytes: number): Promise<string> {
  if (res.body === null) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  while (size < maxBytes) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    size += value.byteLength
  }
  await reader.cancel().catch(() => undefined)
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8').trim()
}

/** `Retry-After` as seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
function retryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message
  }
  return String(err)
}

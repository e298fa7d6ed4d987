// The memory path of the Meterkit client, runtime-neutral: track() into a bounded memory queue,
// batches cut by count, size and time, sent with the retry policy. It has no buffer: Meterkit
// (client.ts) adds one through the protected hooks below; edge runtimes use this class alone,
// so their bundles carry no buffer code.
import { bodyBytes, batchLimits, takeBatch, type BatchLimits } from './batcher.js'
import { Delivery } from './delivery.js'
import { MeterkitDeliveryError } from './errors.js'
import { QueuedEvent, serializeEvent, type TrackInput } from './event.js'
import { newEventId } from './ids.js'
import { EventQueue } from './queue.js'
import { backoffMs, type AttemptOutcome } from './retry.js'
import { newCounters, type Counters, type MeterkitStats } from './stats.js'
import { sleep, systemClock, systemTimers, type Clock, type Sleep, type Timers } from './time.js'
import type { Transport } from './transport.js'
import { DEFAULTS, type MeterkitCoreOptions } from './options.js'

/** Events that leave the queue together; `settled` once their fate is decided and counted. */
export interface Batch {
  readonly events: QueuedEvent[]
  readonly minSeq: number
  settled: boolean
  appending: boolean
}

interface Waiter {
  target: number
  resolve: () => void
}

export class MeterkitBase {
  protected readonly transport: Transport
  protected readonly limits: BatchLimits
  protected readonly random: () => number
  protected readonly counters: Counters = newCounters()
  protected readonly delivery: Delivery
  protected readonly queue = new EventQueue()
  readonly #flushIntervalMs: number
  readonly #maxQueueEvents: number
  readonly #maxRetries: number
  readonly #maxConcurrent: number
  readonly #clock: Clock
  readonly #timers: Timers
  readonly #newId: (nowMs: number) => string

  readonly #live = new Set<Batch>()
  #liveEvents = 0
  #sending = 0
  #seq = 0
  /** Events numbered up to here are sent even in a partial batch (flush, interval). */
  #drainUpTo = 0
  #pumpScheduled = false
  #intervalTimer: unknown = undefined
  #waiters: Waiter[] = []
  #releaseKeepAlive: (() => void) | undefined
  readonly #sleeps = new Set<Sleep>()
  #state: 'open' | 'closing' | 'closed' = 'open'
  #shutdownPromise: Promise<void> | undefined

  constructor(options: MeterkitCoreOptions) {
    this.transport = options.transport
    this.limits = batchLimits(options.flushAt ?? DEFAULTS.flushAt, options.maxBatchBytes ?? DEFAULTS.maxBatchBytes)
    this.#flushIntervalMs = options.flushIntervalMs ?? DEFAULTS.flushIntervalMs
    this.#maxQueueEvents = options.maxQueueEvents ?? DEFAULTS.maxQueueEvents
    this.#maxRetries = options.maxRetries ?? DEFAULTS.maxRetries
    this.#maxConcurrent = Math.max(1, options.maxConcurrentRequests ?? DEFAULTS.maxConcurrentRequests)
    this.#clock = options.clock ?? systemClock
    this.#timers = options.timers ?? systemTimers
    this.random = options.random ?? Math.random
    this.#newId = options.generateId ?? newEventId
    this.delivery = new Delivery(this.transport, this.#clock, this.counters, options.onError, options.onDrop)
  }

  /**
   * Queues one event and answers its id. Synchronous: never waits on the network or the disk,
   * and throws only MeterkitValidationError, for programmer errors.
   */
  track(input: TrackInput): string {
    const event = serializeEvent(input, this.#clock.now(), this.#newId, this.#seq + 1)
    this.#seq++
    this.counters.tracked++
    if (this.isClosed()) {
      this.delivery.drop([event], 'closed')
    } else if (this.queue.length + this.#liveEvents >= this.#maxQueueEvents) {
      this.overflow(event)
    } else {
      this.queue.push(event)
      if (this.queue.length >= this.limits.maxEvents || this.#queueBodyBytes() >= this.limits.maxBytes) this.#schedulePump()
      else if (this.#intervalTimer === undefined) this.#armInterval()
    }
    return event.id
  }

  /**
   * Resolves when every event tracked before the call is acknowledged, answered rejected,
   * durably in the buffer, or given up through onDrop. Never rejects.
   */
  flush(): Promise<void> {
    const target = this.#seq
    if (this.#isSettled(target)) return Promise.resolve()
    if (target > this.#drainUpTo) this.#drainUpTo = target
    this.#pump()
    return new Promise((resolve) => {
      this.#waiters.push({ target, resolve })
      if (this.#releaseKeepAlive === undefined && this.#timers.keepAlive !== undefined) {
        this.#releaseKeepAlive = this.#timers.keepAlive()
      }
    })
  }

  /** Flushes for at most `timeoutMs`, then stops; what is left goes to the buffer (or onDrop). */
  shutdown(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#shutdownPromise ??= this.#close(options.timeoutMs ?? DEFAULTS.shutdownTimeoutMs)
    return this.#shutdownPromise
  }

  stats(): MeterkitStats {
    const c = this.counters
    return {
      tracked: c.tracked,
      acknowledged: c.acknowledged,
      duplicates: c.duplicates,
      rejected: c.rejected,
      retried: c.retried,
      buffered: 0,
      dropped: c.dropped,
      inFlight: c.inFlight,
    }
  }

  /** Ends every backoff wait now (the network is back): waiting batches are tried at once. */
  protected retryNow(): void {
    for (const s of this.#sleeps) s.cancel()
  }

  // --- hooks for a buffer ------------------------------------------------------------------------

  /** An event tracked past the memory cap: dropped here, spilled to the buffer with one. */
  protected overflow(event: QueuedEvent): void {
    this.delivery.drop([event], 'queue_full')
  }

  /**
   * Whether to take a batch off the network path, before its first attempt or after a failed
   * one: `false` (synchronously, so the first request starts within the caller's turn), or a
   * promise of whether the batch was taken.
   */
  protected divert(_batch: Batch, _afterFailure: boolean): false | Promise<boolean> {
    return false
  }

  /** At shutdown, keeps what is left (answers whether it could). */
  protected async persist(_batch: Batch): Promise<boolean> {
    return false
  }

  /** At shutdown, after the transport closed: settle the buffer's work and close it. */
  protected async closeBuffer(): Promise<void> {}

  // --- the memory path ---------------------------------------------------------------------------

  protected isClosed(): boolean {
    return this.#state === 'closed'
  }

  #queueBodyBytes(): number {
    return bodyBytes(this.queue.length, this.queue.bytes)
  }

  #armInterval(): void {
    this.#intervalTimer = this.#timers.setTimeout(() => {
      this.#intervalTimer = undefined
      this.#drainUpTo = this.#seq
      this.#pump()
    }, this.#flushIntervalMs)
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return
    this.#pumpScheduled = true
    queueMicrotask(() => {
      this.#pumpScheduled = false
      this.#pump()
    })
  }

  /** Starts sends while a slot is free and a batch is due (full, flushed or timed out). */
  #pump(): void {
    if (this.isClosed()) return
    while (this.#sending < this.#maxConcurrent && this.queue.length > 0) {
      const full = this.queue.length >= this.limits.maxEvents || this.#queueBodyBytes() >= this.limits.maxBytes
      if (!full && this.queue.peek()!.seq > this.#drainUpTo) break
      const batch = this.addBatch(takeBatch(this.queue, this.limits))
      this.#sending++
      void this.runBatch(batch).finally(() => {
        this.#sending--
        this.#pump()
      })
    }
    if (this.queue.length > 0 && this.#intervalTimer === undefined && !this.isClosed()) this.#armInterval()
  }

  protected addBatch(events: QueuedEvent[]): Batch {
    let minSeq = Infinity
    for (const e of events) if (e.seq < minSeq) minSeq = e.seq
    const batch: Batch = { events, minSeq, settled: false, appending: false }
    this.#live.add(batch)
    this.#liveEvents += events.length
    return batch
  }

  /** Adds a later event to a batch that is not sent yet (spills gather in one). */
  protected addToBatch(batch: Batch, event: QueuedEvent): void {
    batch.events.push(event)
    this.#liveEvents++
  }

  /** Marks a batch's fate as decided; answers false if someone else decided it first. */
  protected settle(batch: Batch): boolean {
    if (batch.settled) return false
    batch.settled = true
    this.#live.delete(batch)
    this.#liveEvents -= batch.events.length
    this.checkWaiters()
    return true
  }

  /** Delivers one batch from memory: retries with backoff, or hands it to the buffer. */
  protected async runBatch(batch: Batch): Promise<void> {
    const diverted = this.divert(batch, false)
    if (diverted !== false && (await diverted)) return
    let attempt = 0
    for (;;) {
      const outcome = await this.delivery.attempt(batch.events)
      if (batch.settled) return // taken over by shutdown()
      if (outcome.kind === 'results') {
        this.settle(batch)
        this.delivery.applyResults(batch.events, outcome.results)
        return
      }
      if (outcome.kind === 'fatal') {
        this.settle(batch)
        this.reportFailure(outcome, batch.events.length, 'the collector refused the request; not retried')
        this.delivery.drop(batch.events, 'request_rejected')
        return
      }
      if (outcome.kind === 'split') {
        if (batch.events.length === 1) {
          this.settle(batch)
          this.delivery.drop(batch.events, 'event_too_large')
          return
        }
        // Children are registered before the parent settles, so no flush() resolves in between.
        const mid = Math.ceil(batch.events.length / 2)
        const first = this.addBatch(batch.events.slice(0, mid))
        const second = this.addBatch(batch.events.slice(mid))
        this.settle(batch)
        await this.runBatch(first)
        await this.runBatch(second)
        return
      }
      const toBuffer = this.divert(batch, true)
      this.reportFailure(outcome, batch.events.length, toBuffer === false ? 'will retry' : 'moving to the buffer')
      if (toBuffer !== false && (await toBuffer)) return
      if (outcome.retryAfterMs === undefined) attempt++
      if (attempt > this.#maxRetries) {
        this.settle(batch)
        this.delivery.drop(batch.events, 'retries_exhausted')
        return
      }
      await this.wait(outcome.retryAfterMs ?? backoffMs(attempt, this.random))
      if (batch.settled || this.isClosed()) return
      this.counters.retried += batch.events.length
    }
  }

  protected reportFailure(outcome: Exclude<AttemptOutcome, { kind: 'results' | 'split' }>, count: number, next: string): void {
    this.delivery.error(new MeterkitDeliveryError(outcome.code, `${outcome.message} (${count} events; ${next})`, count, outcome.status))
  }

  protected async wait(ms: number): Promise<void> {
    const s = sleep(this.#timers, ms)
    this.#sleeps.add(s)
    await s.promise
    this.#sleeps.delete(s)
  }

  // --- flush bookkeeping -------------------------------------------------------------------------

  #isSettled(target: number): boolean {
    const head = this.queue.peek()
    if (head !== undefined && head.seq <= target) return false
    for (const batch of this.#live) if (batch.minSeq <= target) return false
    return true
  }

  protected checkWaiters(): void {
    if (this.#waiters.length === 0) return
    const waiting: Waiter[] = []
    for (const w of this.#waiters) {
      if (this.#isSettled(w.target)) w.resolve()
      else waiting.push(w)
    }
    this.#waiters = waiting
    if (waiting.length === 0 && this.#releaseKeepAlive !== undefined) {
      this.#releaseKeepAlive()
      this.#releaseKeepAlive = undefined
    }
  }

  // --- shutdown ----------------------------------------------------------------------------------

  async #close(timeoutMs: number): Promise<void> {
    const release = this.#timers.keepAlive?.()
    this.#state = 'closing'
    if (this.#intervalTimer !== undefined) {
      this.#timers.clearTimeout(this.#intervalTimer)
      this.#intervalTimer = undefined
    }
    const deadline = sleep(this.#timers, timeoutMs)
    await Promise.race([this.flush(), deadline.promise])
    deadline.cancel()
    this.#state = 'closed'

    // Whatever is not decided yet (except batches being appended) leaves as one last batch,
    // registered before the others settle so that a pending flush() cannot resolve early.
    const taken = [...this.#live].filter((b) => !b.appending)
    const leftovers = this.queue.drain()
    for (const b of taken) leftovers.push(...b.events)
    const last = leftovers.length > 0 ? this.addBatch(leftovers) : undefined
    for (const b of taken) this.settle(b)
    for (const s of this.#sleeps) s.cancel()
    if (last !== undefined && !(await this.persist(last))) {
      this.settle(last)
      this.delivery.drop(last.events, 'shutdown')
    }
    try {
      await this.transport.close?.()
    } catch {
      // closing is best effort
    }
    await this.closeBuffer()
    this.checkWaiters()
    release?.()
  }
}

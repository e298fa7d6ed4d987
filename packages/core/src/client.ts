// The Meterkit client, runtime-neutral: track() into a bounded memory queue, batches cut by count,
// size and time, sent with the retry policy, handed to the runtime's buffer when delivery fails.
// Runtime packages subclass it and pass in their transport, buffer, clock and timers.
import { bodyBytes, batchLimits, encodeBatch, takeBatch, type BatchLimits } from './batcher.js'
import type { BufferedEvent, EventBuffer } from './buffer.js'
import { Delivery, type DropHandler, type ErrorHandler } from './delivery.js'
import { MeterkitBufferError, MeterkitDeliveryError, type DropReason } from './errors.js'
import { QueuedEvent, serializeEvent, type TrackInput } from './event.js'
import { newEventId } from './ids.js'
import { EventQueue } from './queue.js'
import { backoffMs, type AttemptOutcome } from './retry.js'
import { newCounters, type MeterkitStats } from './stats.js'
import { sleep, systemClock, systemTimers, type Clock, type Sleep, type Timers } from './time.js'
import type { Transport } from './transport.js'

export interface MeterkitCoreOptions {
  transport: Transport
  /** Durable buffer; without one, undeliverable events are dropped through onDrop. */
  buffer?: EventBuffer
  /** Events per batch (default 100, at most MAX_BATCH_EVENTS). */
  flushAt?: number
  /** Longest time an event waits in memory before its batch is sent (default 5000). */
  flushIntervalMs?: number
  /** Request body size cap (default 512 KiB, at most MAX_BATCH_BYTES). */
  maxBatchBytes?: number
  /** Events held in memory (queued or being sent); past it events spill to the buffer or drop. */
  maxQueueEvents?: number
  /** Retries after the first attempt before a batch is given up (default 10). */
  maxRetries?: number
  /** Requests in flight at once from the memory queue (default 2). */
  maxConcurrentRequests?: number
  onError?: ErrorHandler
  onDrop?: DropHandler
  clock?: Clock
  timers?: Timers
  /** Uniform in [0, 1): the backoff jitter. */
  random?: () => number
  /** Event id generator (default UUIDv7 at the clock's time). */
  generateId?: (nowMs: number) => string
}

export const DEFAULTS = {
  flushAt: 100,
  flushIntervalMs: 5000,
  maxBatchBytes: 512 * 1024,
  maxQueueEvents: 10_000,
  maxRetries: 10,
  maxConcurrentRequests: 2,
  shutdownTimeoutMs: 30_000,
} as const

/** Events that leave the queue together; `settled` once their fate is decided and counted. */
interface Batch {
  readonly events: QueuedEvent[]
  readonly minSeq: number
  settled: boolean
  appending: boolean
}

interface Waiter {
  target: number
  resolve: () => void
}

export class Meterkit {
  private readonly transport: Transport
  private readonly buffer: EventBuffer | undefined
  private readonly limits: BatchLimits
  private readonly flushIntervalMs: number
  private readonly maxQueueEvents: number
  private readonly maxRetries: number
  private readonly maxConcurrent: number
  private readonly clock: Clock
  private readonly timers: Timers
  private readonly random: () => number
  private readonly newId: (nowMs: number) => string
  private readonly counters = newCounters()
  private readonly delivery: Delivery

  private readonly queue = new EventQueue()
  private readonly live = new Set<Batch>()
  private liveEvents = 0
  private spill: QueuedEvent[] = []
  private sending = 0
  private seq = 0
  /** Events numbered up to here are sent even in a partial batch (flush, interval). */
  private drainUpTo = 0
  private pumpScheduled = false
  private intervalTimer: unknown = undefined
  private waiters: Waiter[] = []
  private releaseKeepAlive: (() => void) | undefined
  private readonly sleeps = new Set<Sleep>()
  private readonly appends = new Set<Promise<unknown>>()
  private state: 'open' | 'closing' | 'closed' = 'open'
  private shutdownPromise: Promise<void> | undefined

  /** The replay loop's last attempt failed: memory batches go straight to the buffer. */
  private replayFailing = false
  private replayAttempt = 0
  private replayDirty = false
  private replayWake: (() => void) | undefined
  private readonly replayDone: Promise<void>

  constructor(options: MeterkitCoreOptions) {
    this.transport = options.transport
    this.buffer = options.buffer
    this.limits = batchLimits(options.flushAt ?? DEFAULTS.flushAt, options.maxBatchBytes ?? DEFAULTS.maxBatchBytes)
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULTS.flushIntervalMs
    this.maxQueueEvents = options.maxQueueEvents ?? DEFAULTS.maxQueueEvents
    this.maxRetries = options.maxRetries ?? DEFAULTS.maxRetries
    this.maxConcurrent = Math.max(1, options.maxConcurrentRequests ?? DEFAULTS.maxConcurrentRequests)
    this.clock = options.clock ?? systemClock
    this.timers = options.timers ?? systemTimers
    this.random = options.random ?? Math.random
    this.newId = options.generateId ?? newEventId
    this.delivery = new Delivery(this.transport, this.clock, this.counters, options.onError, options.onDrop)
    this.replayDone = this.buffer === undefined ? Promise.resolve() : this.replayLoop(this.buffer)
  }

  /**
   * Queues one event and answers its id. Synchronous: never waits on the network or the disk,
   * and throws only MeterkitValidationError, for programmer errors.
   */
  track(input: TrackInput): string {
    const event = serializeEvent(input, this.clock.now(), this.newId, this.seq + 1)
    this.seq++
    this.counters.tracked++
    if (this.closed()) {
      this.delivery.drop([event], 'closed')
    } else if (this.queue.length + this.liveEvents + this.spill.length >= this.maxQueueEvents) {
      if (this.buffer === undefined) this.delivery.drop([event], 'queue_full')
      else this.spillToBuffer(event)
    } else {
      this.queue.push(event)
      if (this.queue.length >= this.limits.maxEvents || this.queueBodyBytes() >= this.limits.maxBytes) this.schedulePump()
      else if (this.intervalTimer === undefined) this.armInterval()
    }
    return event.id
  }

  /**
   * Resolves when every event tracked before the call is acknowledged, answered rejected,
   * durably in the buffer, or given up through onDrop. Never rejects.
   */
  flush(): Promise<void> {
    const target = this.seq
    if (this.isSettled(target)) return Promise.resolve()
    if (target > this.drainUpTo) this.drainUpTo = target
    this.pump()
    return new Promise((resolve) => {
      this.waiters.push({ target, resolve })
      if (this.releaseKeepAlive === undefined && this.timers.keepAlive !== undefined) {
        this.releaseKeepAlive = this.timers.keepAlive()
      }
    })
  }

  /** Flushes for at most `timeoutMs`, then stops; what is left goes to the buffer (or onDrop). */
  shutdown(options: { timeoutMs?: number } = {}): Promise<void> {
    this.shutdownPromise ??= this.close(options.timeoutMs ?? DEFAULTS.shutdownTimeoutMs)
    return this.shutdownPromise
  }

  stats(): MeterkitStats {
    const c = this.counters
    return {
      tracked: c.tracked,
      acknowledged: c.acknowledged,
      duplicates: c.duplicates,
      rejected: c.rejected,
      retried: c.retried,
      buffered: this.buffer?.size ?? 0,
      dropped: c.dropped,
      inFlight: c.inFlight,
    }
  }

  /**
   * For a page that may be going away: synchronously offers every event waiting in memory (not
   * those already in a request) to `send`, in batches of at most `maxBytes`, e.g. through
   * navigator.sendBeacon. A batch `send` takes is considered sent (a beacon has no answer); from
   * the first refusal on, the rest go to the buffer, or stay queued without one.
   */
  protected handOff(send: (body: string) => boolean, maxBytes: number): void {
    if (this.closed() || this.queue.length === 0) return
    const limits = { maxEvents: this.limits.maxEvents, maxBytes: Math.min(maxBytes, this.limits.maxBytes) }
    let handed = false
    while (this.queue.length > 0) {
      const batch = takeBatch(this.queue, limits)
      if (send(encodeBatch(batch))) {
        handed = true
        continue
      }
      const kept = [...batch, ...this.queue.drain()]
      if (this.buffer === undefined) {
        for (const e of kept) this.queue.push(e)
      } else {
        // The append starts now, inside the caller's event handler, while the page still runs.
        const held = this.addBatch(kept)
        void this.handToBuffer(held).then((ok) => {
          if (!ok) void this.runBatch(held)
        })
      }
      break
    }
    if (handed) this.checkWaiters()
  }

  /** Ends every backoff wait now (the network is back): waiting batches are tried at once. */
  protected retryNow(): void {
    for (const s of this.sleeps) s.cancel()
  }

  private closed(): boolean {
    return this.state === 'closed'
  }

  // --- the memory path -------------------------------------------------------------------------

  private queueBodyBytes(): number {
    return bodyBytes(this.queue.length, this.queue.bytes)
  }

  private armInterval(): void {
    this.intervalTimer = this.timers.setTimeout(() => {
      this.intervalTimer = undefined
      this.drainUpTo = this.seq
      this.pump()
    }, this.flushIntervalMs)
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return
    this.pumpScheduled = true
    queueMicrotask(() => {
      this.pumpScheduled = false
      this.pump()
    })
  }

  /** Starts sends while a slot is free and a batch is due (full, flushed or timed out). */
  private pump(): void {
    if (this.closed()) return
    while (this.sending < this.maxConcurrent && this.queue.length > 0) {
      const full = this.queue.length >= this.limits.maxEvents || this.queueBodyBytes() >= this.limits.maxBytes
      if (!full && this.queue.peek()!.seq > this.drainUpTo) break
      const batch = this.addBatch(takeBatch(this.queue, this.limits))
      this.sending++
      void this.runBatch(batch).finally(() => {
        this.sending--
        this.pump()
      })
    }
    if (this.queue.length > 0 && this.intervalTimer === undefined && !this.closed()) this.armInterval()
  }

  private addBatch(events: QueuedEvent[]): Batch {
    let minSeq = Infinity
    for (const e of events) if (e.seq < minSeq) minSeq = e.seq
    const batch: Batch = { events, minSeq, settled: false, appending: false }
    this.live.add(batch)
    this.liveEvents += events.length
    return batch
  }

  /** Marks a batch's fate as decided; answers false if someone else decided it first. */
  private settle(batch: Batch): boolean {
    if (batch.settled) return false
    batch.settled = true
    this.live.delete(batch)
    this.liveEvents -= batch.events.length
    this.checkWaiters()
    return true
  }

  /** Delivers one batch from memory: retries with backoff, or hands it to the buffer. */
  private async runBatch(batch: Batch): Promise<void> {
    if (this.buffer !== undefined && this.replayFailing && (await this.handToBuffer(batch))) return
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
      this.reportFailure(outcome, batch.events.length, this.buffer ? 'moving to the buffer' : 'will retry')
      if (this.buffer !== undefined && (await this.handToBuffer(batch))) return
      if (outcome.retryAfterMs === undefined) attempt++
      if (attempt > this.maxRetries) {
        this.settle(batch)
        this.delivery.drop(batch.events, 'retries_exhausted')
        return
      }
      await this.wait(outcome.retryAfterMs ?? backoffMs(attempt, this.random))
      if (batch.settled || this.closed()) return
      this.counters.retried += batch.events.length
    }
  }

  private reportFailure(outcome: Exclude<AttemptOutcome, { kind: 'results' | 'split' }>, count: number, next: string): void {
    this.delivery.error(new MeterkitDeliveryError(outcome.code, `${outcome.message} (${count} events; ${next})`, count, outcome.status))
  }

  private spillToBuffer(event: QueuedEvent): void {
    this.spill.push(event)
    if (this.spill.length > 1) return
    queueMicrotask(() => {
      const batch = this.addBatch(this.spill)
      this.spill = []
      void this.handToBuffer(batch).then((ok) => {
        if (!ok) void this.runBatch(batch)
      })
    })
  }

  /** Appends a batch to the buffer; answers false (batch still ours) if the buffer failed. */
  private async handToBuffer(batch: Batch): Promise<boolean> {
    const buffer = this.buffer
    if (buffer === undefined || batch.settled) return batch.settled
    batch.appending = true
    const append = buffer.append(batch.events)
    this.appends.add(append)
    try {
      const { refused } = await append
      this.settle(batch)
      this.delivery.drop(refused, 'buffer_full')
      this.wakeReplay()
      return true
    } catch (err) {
      batch.appending = false
      this.delivery.error(new MeterkitBufferError('buffer_write_failed', `disk buffer append failed: ${(err as Error).message}`))
      return false
    } finally {
      this.appends.delete(append)
    }
  }

  private async wait(ms: number): Promise<void> {
    const s = sleep(this.timers, ms)
    this.sleeps.add(s)
    await s.promise
    this.sleeps.delete(s)
  }

  // --- flush bookkeeping -----------------------------------------------------------------------

  private isSettled(target: number): boolean {
    const head = this.queue.peek()
    if (head !== undefined && head.seq <= target) return false
    if (this.spill.length > 0 && this.spill[0]!.seq <= target) return false
    for (const batch of this.live) if (batch.minSeq <= target) return false
    return true
  }

  private checkWaiters(): void {
    if (this.waiters.length === 0) return
    const waiting: Waiter[] = []
    for (const w of this.waiters) {
      if (this.isSettled(w.target)) w.resolve()
      else waiting.push(w)
    }
    this.waiters = waiting
    if (waiting.length === 0 && this.releaseKeepAlive !== undefined) {
      this.releaseKeepAlive()
      this.releaseKeepAlive = undefined
    }
  }

  // --- the buffer path -------------------------------------------------------------------------

  private wakeReplay(): void {
    this.replayDirty = true
    const wake = this.replayWake
    this.replayWake = undefined
    wake?.()
  }

  /** Sends what the buffer holds, oldest first, retrying with backoff for as long as it takes. */
  private async replayLoop(buffer: EventBuffer): Promise<void> {
    while (!this.closed()) {
      this.replayDirty = false
      let events: BufferedEvent[]
      try {
        events = await buffer.read(this.limits.maxEvents, this.limits.maxBytes)
      } catch (err) {
        this.delivery.error(new MeterkitBufferError('buffer_read_failed', `disk buffer read failed: ${(err as Error).message}`))
        await this.wait(backoffMs(++this.replayAttempt, this.random))
        continue
      }
      if (events.length === 0) {
        if (!this.replayDirty && !this.closed()) await new Promise<void>((r) => (this.replayWake = r))
        continue
      }
      await this.replayBatch(buffer, events)
    }
  }

  private async replayBatch(buffer: EventBuffer, events: BufferedEvent[]): Promise<void> {
    for (;;) {
      const outcome = await this.delivery.attempt(events)
      if (outcome.kind === 'retry') {
        this.replayFailing = true
        if (this.closed()) return // still on disk: the next process replays it
        this.reportFailure(outcome, events.length, 'kept in the buffer, will retry')
        if (outcome.retryAfterMs === undefined) this.replayAttempt++
        await this.wait(outcome.retryAfterMs ?? backoffMs(this.replayAttempt, this.random))
        if (this.closed()) return
        this.counters.retried += events.length
        continue
      }
      this.replayFailing = false
      this.replayAttempt = 0
      if (outcome.kind === 'split' && events.length > 1) {
        const mid = Math.ceil(events.length / 2)
        await this.replayBatch(buffer, events.slice(0, mid))
        await this.replayBatch(buffer, events.slice(mid))
        return
      }
      if (outcome.kind === 'results') this.delivery.applyResults(events, outcome.results)
      else if (outcome.kind === 'split') this.delivery.drop(events, 'event_too_large')
      else {
        this.reportFailure(outcome, events.length, 'the collector refused the request; not retried')
        this.delivery.drop(events, 'request_rejected')
      }
      try {
        await buffer.ack(events)
      } catch (err) {
        this.delivery.error(new MeterkitBufferError('buffer_ack_failed', `disk buffer ack failed: ${(err as Error).message}`))
      }
      return
    }
  }

  // --- shutdown --------------------------------------------------------------------------------

  private async close(timeoutMs: number): Promise<void> {
    const release = this.timers.keepAlive?.()
    this.state = 'closing'
    if (this.intervalTimer !== undefined) {
      this.timers.clearTimeout(this.intervalTimer)
      this.intervalTimer = undefined
    }
    const deadline = sleep(this.timers, timeoutMs)
    await Promise.race([this.flush(), deadline.promise])
    deadline.cancel()
    this.state = 'closed'

    // Whatever is not decided yet (except batches being appended) leaves as one last batch,
    // registered before the others settle so that a pending flush() cannot resolve early.
    const taken = [...this.live].filter((b) => !b.appending)
    const leftovers = [...this.queue.drain(), ...this.spill]
    this.spill = []
    for (const b of taken) leftovers.push(...b.events)
    const last = leftovers.length > 0 ? this.addBatch(leftovers) : undefined
    for (const b of taken) this.settle(b)
    for (const s of this.sleeps) s.cancel()
    this.wakeReplay()
    if (last !== undefined && !(await this.handToBuffer(last))) {
      this.settle(last)
      this.delivery.drop(last.events, 'shutdown' satisfies DropReason)
    }
    await Promise.allSettled([...this.appends])
    try {
      await this.transport.close?.()
    } catch {
      // closing is best effort
    }
    await this.replayDone
    if (this.buffer !== undefined) {
      try {
        await this.buffer.close()
      } catch (err) {
        this.delivery.error(new MeterkitBufferError('buffer_close_failed', `disk buffer close failed: ${(err as Error).message}`))
      }
    }
    this.checkWaiters()
    release?.()
  }
}

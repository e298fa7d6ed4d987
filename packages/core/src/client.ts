// The Meterkit client with a durable buffer (Node: files; browsers: IndexedDB): events past the
// memory cap spill to it, a batch whose attempt fails is handed to it at once (so flush() stays
// fast in an outage), and a replay loop sends what it holds, oldest first, for as long as it
// takes. Without a buffer it is the memory client of base-client.ts.
import { encodeBatch, takeBatch } from './batcher.js'
import { MeterkitBase, type Batch } from './base-client.js'
import type { BufferedEvent, EventBuffer } from './buffer.js'
import { MeterkitBufferError } from './errors.js'
import type { QueuedEvent } from './event.js'
import type { MeterkitCoreOptions } from './options.js'
import { backoffMs } from './retry.js'
import type { MeterkitStats } from './stats.js'

export class Meterkit extends MeterkitBase {
  readonly #buffer: EventBuffer | undefined
  /** Events past the memory cap, gathered in one batch until the next microtask appends it. */
  #spill: Batch | undefined
  readonly #appends = new Set<Promise<unknown>>()
  /** The replay loop's last attempt failed: memory batches go straight to the buffer. */
  #replayFailing = false
  #replayAttempt = 0
  #replayDirty = false
  #replayWake: (() => void) | undefined
  readonly #replayDone: Promise<void>

  constructor(options: MeterkitCoreOptions) {
    super(options)
    this.#buffer = options.buffer
    this.#replayDone = this.#buffer === undefined ? Promise.resolve() : this.#replayLoop(this.#buffer)
  }

  override stats(): MeterkitStats {
    return { ...super.stats(), buffered: this.#buffer?.size ?? 0 }
  }

  /**
   * For a page that may be going away: synchronously offers every event waiting in memory (not
   * those already in a request) to `send`, in batches of at most `maxBytes`, e.g. through
   * navigator.sendBeacon. A batch `send` takes is considered sent (a beacon has no answer); from
   * the first refusal on, the rest go to the buffer (at once, with its appendNow), or stay queued
   * without one.
   */
  protected handOff(send: (body: string) => boolean, maxBytes: number): void {
    if (this.isClosed() || this.queue.length === 0) return
    const limits = { maxEvents: this.limits.maxEvents, maxBytes: Math.min(maxBytes, this.limits.maxBytes) }
    let handed = false
    while (this.queue.length > 0) {
      const batch = takeBatch(this.queue, limits)
      if (send(encodeBatch(batch))) {
        handed = true
        continue
      }
      const kept = [...batch, ...this.queue.drain()]
      if (this.#buffer === undefined) {
        for (const e of kept) this.queue.push(e)
      } else if (this.#buffer.appendNow?.(kept)) {
        handed = true
        this.#wakeReplay()
      } else {
        // An asynchronous append: it may not finish if the page is going away.
        const held = this.addBatch(kept)
        void this.#handToBuffer(held).then((ok) => {
          if (!ok) void this.runBatch(held)
        })
      }
      break
    }
    if (handed) this.checkWaiters()
  }

  protected override overflow(event: QueuedEvent): void {
    if (this.#buffer === undefined) return super.overflow(event)
    if (this.#spill !== undefined) return this.addToBatch(this.#spill, event)
    const batch = (this.#spill = this.addBatch([event]))
    queueMicrotask(() => {
      this.#spill = undefined
      void this.#handToBuffer(batch).then((ok) => {
        if (!ok) void this.runBatch(batch)
      })
    })
  }

  protected override divert(batch: Batch, afterFailure: boolean): false | Promise<boolean> {
    if (this.#buffer === undefined || (!afterFailure && !this.#replayFailing)) return false
    return this.#handToBuffer(batch)
  }

  protected override persist(batch: Batch): Promise<boolean> {
    return this.#handToBuffer(batch)
  }

  protected override async closeBuffer(): Promise<void> {
    this.#wakeReplay()
    await Promise.allSettled([...this.#appends])
    await this.#replayDone
    if (this.#buffer === undefined) return
    try {
      await this.#buffer.close()
    } catch (err) {
      this.#bufferError('close', err)
    }
  }

  /** Appends a batch to the buffer; answers false (batch still ours) if the buffer failed. */
  async #handToBuffer(batch: Batch): Promise<boolean> {
    const buffer = this.#buffer
    if (buffer === undefined || batch.settled) return batch.settled
    batch.appending = true
    const append = buffer.append(batch.events)
    this.#appends.add(append)
    try {
      const { refused } = await append
      this.settle(batch)
      this.delivery.drop(refused, 'buffer_full')
      this.#wakeReplay()
      return true
    } catch (err) {
      batch.appending = false
      this.#bufferError('write', err)
      return false
    } finally {
      this.#appends.delete(append)
    }
  }

  /** Reports a failed buffer operation: `buffer_write_failed`, `buffer_read_failed`, `buffer_ack_failed`, `buffer_close_failed`. */
  #bufferError(operation: string, err: unknown): void {
    this.delivery.error(new MeterkitBufferError(`buffer_${operation}_failed`, `buffer ${operation} failed: ${(err as Error)?.message}`))
  }

  #wakeReplay(): void {
    this.#replayDirty = true
    const wake = this.#replayWake
    this.#replayWake = undefined
    wake?.()
  }

  /** Sends what the buffer holds, oldest first, retrying with backoff for as long as it takes. */
  async #replayLoop(buffer: EventBuffer): Promise<void> {
    while (!this.isClosed()) {
      this.#replayDirty = false
      let events: BufferedEvent[]
      try {
        events = await buffer.read(this.limits.maxEvents, this.limits.maxBytes)
      } catch (err) {
        this.#bufferError('read', err)
        await this.wait(backoffMs(++this.#replayAttempt, this.random))
        continue
      }
      if (events.length === 0) {
        if (!this.#replayDirty && !this.isClosed()) await new Promise<void>((r) => (this.#replayWake = r))
        continue
      }
      await this.#replayBatch(buffer, events)
    }
  }

  async #replayBatch(buffer: EventBuffer, events: BufferedEvent[]): Promise<void> {
    for (;;) {
      const outcome = await this.delivery.attempt(events)
      if (outcome.kind === 'retry') {
        this.#replayFailing = true
        if (this.isClosed()) return // still in the buffer: the next process replays it
        this.reportFailure(outcome, events.length, 'kept in the buffer, will retry')
        if (outcome.retryAfterMs === undefined) this.#replayAttempt++
        await this.wait(outcome.retryAfterMs ?? backoffMs(this.#replayAttempt, this.random))
        if (this.isClosed()) return
        this.counters.retried += events.length
        continue
      }
      this.#replayFailing = false
      this.#replayAttempt = 0
      if (outcome.kind === 'split' && events.length > 1) {
        const mid = Math.ceil(events.length / 2)
        await this.#replayBatch(buffer, events.slice(0, mid))
        await this.#replayBatch(buffer, events.slice(mid))
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
        this.#bufferError('ack', err)
      }
      return
    }
  }
}

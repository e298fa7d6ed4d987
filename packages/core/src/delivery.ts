// One attempt at one batch, and what its answer means for each event: the part of sending that
// the memory path and the buffer-replay path share.
import type { EventResult, WireEvent } from '@meterkit/protocol'
import { encodeBatch } from './batcher.js'
import { MeterkitEventError, type DropReason, type MeterkitError } from './errors.js'
import type { SerializedEvent } from './event.js'
import { classifyResult, type AttemptOutcome } from './retry.js'
import type { Counters } from './stats.js'
import type { Clock } from './time.js'
import type { Transport, TransportResult } from './transport.js'

export type ErrorHandler = (error: MeterkitError) => void
export type DropHandler = (events: WireEvent[], reason: DropReason) => void

export class Delivery {
  readonly #transport: Transport
  readonly #clock: Clock
  readonly #counters: Counters
  readonly #onError: ErrorHandler | undefined
  readonly #onDrop: DropHandler | undefined

  constructor(transport: Transport, clock: Clock, counters: Counters, onError: ErrorHandler | undefined, onDrop: DropHandler | undefined) {
    this.#transport = transport
    this.#clock = clock
    this.#counters = counters
    this.#onError = onError
    this.#onDrop = onDrop
  }

  /** Sends the batch once; never rejects. */
  async attempt(events: readonly SerializedEvent[]): Promise<AttemptOutcome> {
    const count = events.length
    this.#counters.inFlight += count
    let result: TransportResult
    try {
      result = await this.#transport.send({ body: encodeBatch(events), eventCount: count })
    } catch (err) {
      result = { ok: false, error: 'network', message: err instanceof Error ? err.message : String(err) }
    } finally {
      this.#counters.inFlight -= count
    }
    return classifyResult(result, count, this.#clock.now())
  }

  /** Counts per-event answers; `rejected`/`conflict` go to onError and are never retried. */
  applyResults(events: readonly SerializedEvent[], results: readonly EventResult[]): void {
    for (let i = 0; i < events.length; i++) {
      const result = results[i]!
      // Delivered: `accepted`, `duplicate`, and `queued` (a collector in queue mode: held by the
      // durable log). The others are `rejected` and `conflict`.
      if (result.status !== 'rejected' && result.status !== 'conflict') {
        this.#counters.acknowledged++
        if (result.status === 'duplicate') this.#counters.duplicates++
      } else {
        this.#counters.rejected++
        const { code, message } = result as { code?: string; message?: string }
        this.error(new MeterkitEventError(events[i]!.id, result.status, code ?? result.status, message ?? result.status))
      }
    }
  }

  /** Gives events up, visibly: counted and handed to onDrop. */
  drop(events: readonly SerializedEvent[], reason: DropReason): void {
    if (events.length === 0) return
    this.#counters.dropped += events.length
    if (this.#onDrop === undefined) return
    try {
      this.#onDrop(events.map((e) => JSON.parse(e.json) as WireEvent), reason)
    } catch {
      // A user callback never breaks delivery.
    }
  }

  error(error: MeterkitError): void {
    if (this.#onError === undefined) return
    try {
      this.#onError(error)
    } catch {
      // A user callback never breaks delivery.
    }
  }
}

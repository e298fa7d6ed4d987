// Group commit: batches that arrive while a transaction runs are stored together in the next
// one, so one fsync and one pass over hot index pages serve many requests. Each batch still
// gets its own answer, and only after the transaction that holds it has committed.
import type { EventWriter, RowBatch } from './event-writer.js'
import { ROW_WIDTH } from './event-writer.js'

export interface GroupCommitOptions {
  /** Most events in one transaction. */
  maxGroupEvents?: number
  /** Fold derived state (customer index, rollups) once this many events are past its watermark. */
  foldAfterEvents?: number
  /** Idle time after which the rest is folded, in ms. */
  foldIdleMs?: number
  /**
   * Folds up to that many events into derived state and answers how many it folded; given where
   * ingest shares a connection with the engine (in-thread stores), left out where a maintenance
   * thread folds.
   */
  fold?: (maxRows: number) => Promise<number>
}

const FOLD_PASS = 50_000

interface Pending {
  batch: RowBatch
  resolve: (outcomes: Uint8Array) => void
  reject: (err: unknown) => void
}

export class GroupCommitter {
  private queue: Pending[] = []
  private scheduled = false
  private unfolded = Number.POSITIVE_INFINITY
  private idleTimer: ReturnType<typeof setTimeout> | undefined
  private readonly maxGroupEvents: number
  private readonly foldAfterEvents: number
  private readonly foldIdleMs: number

  constructor(private readonly writer: EventWriter, options: GroupCommitOptions = {}) {
    this.maxGroupEvents = options.maxGroupEvents ?? 20_000
    this.foldAfterEvents = options.foldAfterEvents ?? 20_000
    this.foldIdleMs = options.foldIdleMs ?? 200
    this.fold = options.fold
  }

  private readonly fold: ((maxRows: number) => Promise<number>) | undefined
  private folding: Promise<void> | undefined

  submit(batch: RowBatch): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.drain())
      }
    })
  }

  private drain(): void {
    this.scheduled = false
    while (this.queue.length > 0) {
      let events = 0
      let take = 0
      while (take < this.queue.length && (take === 0 || events + this.queue[take]!.batch.rows.length / ROW_WIDTH <= this.maxGroupEvents)) {
        events += this.queue[take]!.batch.rows.length / ROW_WIDTH
        take++
      }
      const group = this.queue.splice(0, take)
      this.commit(group)
      this.unfolded += events
      if (this.unfolded >= this.foldAfterEvents) void this.foldDerived()
    }
    this.armIdleFold()
  }

  private commit(group: Pending[]): void {
    try {
      const outcomes = this.writer.writeGroup(group.map((p) => p.batch))
      group.forEach((p, i) => p.resolve(outcomes[i]!))
    } catch (err) {
      if (group.length === 1) {
        group[0]!.reject(err)
        return
      }
      // One batch must not sink the others: retry each in its own transaction.
      for (const p of group) this.commit([p])
    }
  }

  /** Folds until caught up, one run at a time; commits go on meanwhile (each pass is a transaction of its own). */
  private foldDerived(): Promise<void> {
    const fold = this.fold
    if (fold === undefined) return Promise.resolve()
    this.folding ??= (async () => {
      try {
        this.unfolded = 0
        while (await fold(FOLD_PASS) === FOLD_PASS) {
          // keep going until caught up
        }
      } catch {
        // Folding is retried on the next pass; readers cover the tail meanwhile.
        this.unfolded = this.foldAfterEvents
      } finally {
        this.folding = undefined
      }
    })()
    return this.folding
  }

  private armIdleFold(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined
      if (this.queue.length === 0 && this.unfolded > 0) void this.foldDerived()
    }, this.foldIdleMs)
    this.idleTimer.unref?.()
  }

  /** Stops the idle timer and folds what is left. */
  async close(): Promise<void> {
    if (this.queue.length > 0) this.drain()
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer)
    await this.folding
    await this.foldDerived()
  }
}

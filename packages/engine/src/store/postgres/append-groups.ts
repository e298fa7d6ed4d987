// Group commit for appends: batches that arrive while an append transaction runs are stored
// together in the next one, so one turn of the append lock and one commit (one WAL flush) serve
// many requests. Each batch still gets its own answer, only after its transaction committed.
import type { IngestBatch, IngestOutcome } from '../port.js'
import { isStoreUnavailable } from '../unavailable.js'

interface Pending {
  batch: IngestBatch
  resolve: (outcomes: IngestOutcome[]) => void
  reject: (err: unknown) => void
}

export class AppendGroups {
  private queue: Pending[] = []
  private draining = false

  /** `store` writes the batches in one transaction and answers their outcomes in order. */
  constructor(private readonly store: (batches: IngestBatch[]) => Promise<IngestOutcome[][]>, private readonly maxGroupEvents = 20_000) {}

  submit(batch: IngestBatch): Promise<IngestOutcome[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject })
      if (!this.draining) void this.drain()
    })
  }

  private async drain(): Promise<void> {
    this.draining = true
    while (this.queue.length > 0) {
      let events = 0
      let take = 0
      while (take < this.queue.length && (take === 0 || events + this.queue[take]!.batch.events.length <= this.maxGroupEvents)) {
        events += this.queue[take]!.batch.events.length
        take++
      }
      await this.commit(this.queue.splice(0, take))
    }
    this.draining = false
  }

  private async commit(group: Pending[]): Promise<void> {
    try {
      const outcomes = await this.store(group.map((p) => p.batch))
      group.forEach((p, i) => p.resolve(outcomes[i]!))
    } catch (err) {
      // The transaction rolled back. A batch that made it fail must not sink the others: each
      // runs again alone. Not when the database went away: a lost COMMIT may have committed.
      if (group.length === 1 || isStoreUnavailable(err)) {
        for (const p of group) p.reject(err)
        return
      }
      for (const p of group) await this.store([p.batch]).then((o) => p.resolve(o[0]!), p.reject)
    }
  }
}

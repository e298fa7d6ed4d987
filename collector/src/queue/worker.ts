// `meterkit worker`: applies the event stream to the store. The partitions are shared among the
// live workers by leases (PartitionLeases: a PostgreSQL advisory lock per partition), so one
// worker at a time writes a partition's customers; a worker that dies loses its leases with its
// connection and the others take its partitions at their next round. A message is acked only
// after the transaction that stored its events committed; a message delivered again (a worker
// died between commit and ack) finds its events stored, and the unique key makes it a no-op.
import { type IngestBatch, type IngestOutcome, type PartitionLeases, type PostgresStore, isStoreUnavailable } from '@meterkit/engine'
import type { JsMsg } from '@nats-io/jetstream'
import type { LogFunction } from '../logger.js'
import type { LiveChange, LiveRelay } from './live-relay.js'
import { MessageError, decodeBatch } from './message.js'
import { PartitionRunner } from './partition-runner.js'
import { type QueueConnection, ensureConsumer } from './stream.js'

export interface QueueWorkerOptions {
  store: Pick<PostgresStore, 'ingest'>
  leases: PartitionLeases
  queue: QueueConnection
  relay?: LiveRelay
  log: LogFunction
  /** How often leases are checked, taken and given up, in ms (default 1000). */
  roundMs?: number
  /** Most messages applied in one group (default 256). */
  groupMessages?: number
  /** How long a message whose store was unavailable waits before it is delivered again, in ms (default 1000). */
  retryDelayMs?: number
}

/** What the worker has applied since it started, by outcome. */
export interface WorkerCounts {
  messages: number
  accepted: number
  duplicate: number
  conflict: number
  /** Messages handed back after a failed apply (delivered again later). */
  retried: number
}

export class QueueWorker {
  readonly counts: WorkerCounts = { messages: 0, accepted: 0, duplicate: 0, conflict: 0, retried: 0 }
  private readonly runners = new Map<number, PartitionRunner>()
  private readonly starting = new Set<number>()
  private timer: ReturnType<typeof setInterval> | undefined
  private rounding: Promise<void> | undefined
  private closed = false
  private lastOwned = ''

  constructor(private readonly options: QueueWorkerOptions) {}

  /** The partitions being worked now, ascending. */
  get partitions(): number[] {
    return [...this.runners.keys()].sort((a, b) => a - b)
  }

  async start(): Promise<void> {
    this.options.leases.onLost((err) => {
      this.options.log('warn', 'partition leases lost with their connection; stopping their work', { error: err.message })
      void this.stopAll()
    })
    await this.round()
    this.timer = setInterval(() => void this.round(), this.options.roundMs ?? 1000)
    this.timer.unref?.()
  }

  /** One lease round now (the timer runs them too); resolves when it is done. */
  round(): Promise<void> {
    this.rounding ??= this.roundOnce().finally(() => (this.rounding = undefined))
    return this.rounding
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer !== undefined) clearInterval(this.timer)
    await this.rounding
    await this.stopAll()
    await this.options.leases.close()
  }

  private async roundOnce(): Promise<void> {
    if (this.closed) return
    const { leases, queue } = this.options
    let round
    try {
      round = await leases.round(queue.layout.partitions)
    } catch (err) {
      this.options.log('warn', 'partition leases could not be renewed; retrying', { error: (err as Error).message })
      await this.stopAll()
      return
    }
    // A runner without a lease (lost with the connection) stops; a lease without a runner starts one.
    const owned = new Set(round.owned)
    await Promise.all([...this.runners.keys()].filter((p) => !owned.has(p)).map((p) => this.stopRunner(p)))
    for (const p of round.surplus) {
      await this.stopRunner(p)
      await leases.release(p)
      owned.delete(p)
    }
    await Promise.all([...owned].filter((p) => !this.runners.has(p)).map((p) => this.startRunner(p)))
    const now = this.partitions.join(',')
    if (now !== this.lastOwned) {
      this.lastOwned = now
      this.options.log('info', `worker: partitions ${now || 'none'} of ${queue.layout.partitions} (${round.workers} workers)`, { partitions: this.partitions, workers: round.workers })
    }
  }

  private async startRunner(p: number): Promise<void> {
    if (this.starting.has(p) || this.closed) return
    this.starting.add(p)
    const { queue } = this.options
    try {
      // Unacknowledged deliveries left by a previous holder (it died, or lost its lease) would
      // wait out their ack wait: a consumer made anew delivers them again at once.
      const info = await queue.jsm.consumers.info(queue.layout.name, queue.layout.consumer(p)).catch(() => undefined)
      await ensureConsumer(queue, p, info !== undefined && info.num_ack_pending > 0)
      const consumer = await queue.js.consumers.get(queue.layout.name, queue.layout.consumer(p))
      const runner = new PartitionRunner(p, consumer, (group) => this.apply(group), this.options.groupMessages ?? 256)
      await runner.start()
      this.runners.set(p, runner)
    } catch (err) {
      // The lease stays: the next round tries again.
      this.options.log('warn', `partition ${p}: its consumer could not be started; retrying`, { error: (err as Error).message })
    } finally {
      this.starting.delete(p)
    }
  }

  private async stopRunner(p: number): Promise<void> {
    const runner = this.runners.get(p)
    if (runner === undefined) return
    this.runners.delete(p)
    await runner.stop()
  }

  private async stopAll(): Promise<void> {
    await Promise.all([...this.runners.keys()].map((p) => this.stopRunner(p)))
  }

  /** Stores each message's batch (batches applied together share a commit), then acks it. */
  private async apply(group: JsMsg[]): Promise<void> {
    const batches = group.map((m): IngestBatch | undefined => {
      try {
        return decodeBatch(m.data)
      } catch (err) {
        if (!(err instanceof MessageError)) throw err
        // Not a message any collector writes: nothing can ever store it.
        this.options.log('error', `stream message ${m.seq} cannot be applied and is dropped: ${err.message}`, { subject: m.subject, seq: m.seq })
        m.term(err.message)
        return undefined
      }
    })
    const results = await Promise.allSettled(batches.map((b) => (b === undefined ? Promise.resolve(undefined) : this.options.store.ingest(b))))
    const live = new Map<number, LiveChange[]>()
    results.forEach((r, i) => {
      const m = group[i]!
      const batch = batches[i]
      if (batch === undefined) return
      if (r.status === 'rejected') {
        this.counts.retried++
        if (!isStoreUnavailable(r.reason)) this.options.log('error', `stream message ${m.seq} failed to apply; it will be delivered again`, { error: String(r.reason) })
        m.nak(this.options.retryDelayMs ?? 1000)
        return
      }
      m.ack()
      this.counts.messages++
      const outcomes = r.value as IngestOutcome[]
      let changes = live.get(batch.tenantId)
      if (changes === undefined) live.set(batch.tenantId, (changes = []))
      outcomes.forEach((o, j) => {
        this.counts[o]++
        if (o === 'accepted') changes.push(batch.events[j]!)
        else if (o === 'conflict') this.options.log('warn', `event ${batch.events[j]!.id}: another event with this id and different content is stored; nothing changed`, { tenantId: batch.tenantId })
      })
    })
    for (const [tenantId, changes] of live) this.options.relay?.publish(tenantId, changes)
  }
}

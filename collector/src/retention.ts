// Retention: finished webhook deliveries and Idempotency-Key records are deleted once old
// enough, so the outbox and the key table stay small. Pending deliveries are never pruned.
import type { Clock, Store } from '@meterkit/engine'
import { IDEMPOTENCY_RETENTION_MS } from './idempotency.js'

/** Delivered and failed webhook deliveries are kept this long after their event (default 30 days). */
export const DEFAULT_WEBHOOK_RETENTION_MS = 30 * 86_400_000

export interface RetentionOptions {
  /** How long delivered and failed deliveries are kept, in ms (default 30 days). */
  webhookRetentionMs?: number
  /** How often the sweep runs, in ms (default one hour; 0 turns it off). */
  intervalMs?: number
  timers?: { setInterval(fn: () => void, ms: number): { unref?(): void }; clearInterval(handle: unknown): void }
  log?: (level: 'error' | 'warn' | 'info', message: string, fields?: Record<string, unknown>) => void
}

export class RetentionSweeper {
  private handle: { unref?(): void } | undefined
  private running: Promise<unknown> | undefined
  readonly webhookRetentionMs: number

  constructor(private readonly store: Store, private readonly clock: Clock, private readonly options: RetentionOptions) {
    this.webhookRetentionMs = options.webhookRetentionMs ?? DEFAULT_WEBHOOK_RETENTION_MS
  }

  start(): void {
    const interval = this.options.intervalMs ?? 3_600_000
    if (interval <= 0 || this.handle !== undefined) return
    const timers = this.options.timers ?? globalThis
    this.handle = timers.setInterval(() => {
      this.running ??= this.sweep()
        .catch((err: unknown) => this.options.log?.('error', 'retention sweep failed; will retry', { error: String(err) }))
        .finally(() => (this.running = undefined))
    }, interval)
    this.handle.unref?.()
  }

  /** Deletes what is past its retention now; answers how many rows of each kind went. */
  async sweep(): Promise<{ webhookDeliveries: number; idempotencyKeys: number }> {
    const now = this.clock.now()
    const webhookDeliveries = await this.store.webhooks.prune(now - this.webhookRetentionMs)
    const idempotencyKeys = await this.store.idempotency.prune(now - IDEMPOTENCY_RETENTION_MS)
    if (webhookDeliveries + idempotencyKeys > 0) this.options.log?.('info', 'retention sweep', { webhookDeliveries, idempotencyKeys })
    return { webhookDeliveries, idempotencyKeys }
  }

  async stop(): Promise<void> {
    if (this.handle !== undefined) (this.options.timers ?? globalThis).clearInterval(this.handle)
    this.handle = undefined
    await this.running
  }
}

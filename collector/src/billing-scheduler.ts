// Runs billing inside the collector: every interval, each tenant with subscriptions is billed
// up to now, so periods close (after their grace period) without anyone calling the API.
import type { Clock, Store } from '@meterkit/engine'

export interface SchedulerTimers {
  setInterval(fn: () => void, ms: number): { unref?(): void }
  clearInterval(handle: unknown): void
}

export class BillingScheduler {
  private handle: { unref?(): void } | undefined
  private running: Promise<void> | undefined

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly log: (level: 'error' | 'info', message: string, fields?: Record<string, unknown>) => void,
    private readonly timers: SchedulerTimers = globalThis,
    /** Told the duration of each tenant's run, in seconds (the billing-run histogram). */
    private readonly observe: (seconds: number) => void = () => {},
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.handle !== undefined) return
    this.handle = this.timers.setInterval(() => void this.tick(), this.intervalMs)
    this.handle.unref?.()
  }

  /** One pass over every billed tenant; a pass still running is not started twice. */
  tick(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  private async pass(): Promise<void> {
    for (const tenantId of await this.store.billing.billedTenants()) {
      const now = this.clock.now()
      try {
        const started = performance.now()
        const result = await this.store.billing.run(tenantId, now, now)
        this.observe((performance.now() - started) / 1000)
        if (result.finalized.length > 0) this.log('info', 'billing run', { tenantId, finalized: result.finalized.length, adjustments: result.adjustments })
      } catch (err) {
        this.log('error', 'billing run failed', { tenantId, error: String(err) })
      }
    }
  }

  async stop(): Promise<void> {
    if (this.handle !== undefined) this.timers.clearInterval(this.handle)
    this.handle = undefined
    await this.running
  }
}

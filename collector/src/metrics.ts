// Prometheus metrics of one collector: requests, events by status, batch sizes, commit latency,
// and the store's backlog figures (webhooks waiting, events not folded yet, database size).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export class CollectorMetrics {
  readonly registry = new Registry()
  readonly requests = new Counter({
    name: 'meterkit_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  })
  readonly inFlight = new Gauge({
    name: 'meterkit_http_requests_in_flight',
    help: 'API requests being handled now',
    registers: [this.registry],
  })
  readonly events = new Counter({
    name: 'meterkit_events_total',
    help: 'Events received, by result status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  })
  readonly batchSize = new Histogram({
    name: 'meterkit_batch_events',
    help: 'Events per POST /v1/events batch',
    buckets: [1, 10, 50, 100, 250, 500, 1000],
    registers: [this.registry],
  })
  readonly commitSeconds = new Histogram({
    name: 'meterkit_ingest_commit_seconds',
    help: 'Time to store and durably commit one batch',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  })

  /** Open live streams, read at each scrape (set by the app). */
  liveStreams: () => number = () => 0
  readonly streams = new Gauge({
    name: 'meterkit_live_streams',
    help: 'Open GET /v1/customers/:id/stream connections',
    registers: [this.registry],
    collect: () => {
      this.streams.set(this.liveStreams())
    },
  })

  readonly billingRunSeconds = new Histogram({
    name: 'meterkit_billing_run_seconds',
    help: 'Duration of one billing run of a tenant, by what started it (schedule or api)',
    labelNames: ['trigger'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
    registers: [this.registry],
  })

  /** Where the store figures come from, read at each scrape (set by the server for its store). */
  storeGauges: StoreGauges | undefined
  readonly webhookBacklog = new Gauge({
    name: 'meterkit_webhook_backlog',
    help: 'Webhook deliveries not delivered yet (pending, due now or retrying later)',
    registers: [this.registry],
    collect: async () => {
      if (this.storeGauges) this.webhookBacklog.set(await this.storeGauges.webhookBacklog())
    },
  })
  readonly foldLag = new Gauge({
    name: 'meterkit_fold_lag_events',
    help: 'Events past the watermark of each fold (rollups, credits): stored, not folded yet (readers add them from the raw events)',
    labelNames: ['fold'] as const,
    registers: [this.registry],
    collect: async () => {
      if (!this.storeGauges) return
      for (const [fold, events] of Object.entries(await this.storeGauges.foldLag())) this.foldLag.set({ fold }, events)
    },
  })
  readonly databaseBytes = new Gauge({
    name: 'meterkit_database_bytes',
    help: 'Size of the database files on disk, by file (main, wal)',
    labelNames: ['file'] as const,
    registers: [this.registry],
    collect: async () => {
      if (!this.storeGauges) return
      for (const [file, bytes] of Object.entries(await this.storeGauges.databaseBytes())) this.databaseBytes.set({ file }, bytes)
    },
  })

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'meterkit_' })
  }
}

/** Figures a store gives the metrics at each scrape. */
export interface StoreGauges {
  webhookBacklog(): number | Promise<number>
  /** Events past each fold's watermark, by fold name. */
  foldLag(): Record<string, number> | Promise<Record<string, number>>
  /** Bytes on disk, by file. */
  databaseBytes(): Record<string, number> | Promise<Record<string, number>>
}

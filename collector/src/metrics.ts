// Prometheus metrics of one collector: requests, events by status, batch sizes, commit latency.
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

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'meterkit_' })
  }
}

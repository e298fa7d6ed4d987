// A collector's queue mode: the connection, the publisher that takes the place of the store's
// ingest, the readiness check and the live relay, opened and closed together.
import { QueueHealth } from './health.js'
import { LiveRelay } from './live-relay.js'
import type { QueueOptions } from './options.js'
import { QueuePublisher } from './publisher.js'
import { type QueueConnection, connectQueue } from './stream.js'

export class CollectorQueue {
  readonly publisher: QueuePublisher
  readonly health: QueueHealth
  readonly relay: LiveRelay

  private constructor(readonly connection: QueueConnection) {
    this.health = new QueueHealth(connection)
    this.publisher = new QueuePublisher(connection, this.health)
    this.relay = new LiveRelay(connection.nc, connection.layout.liveSubject)
  }

  static async open(options: QueueOptions): Promise<CollectorQueue> {
    return new CollectorQueue(await connectQueue(options, 'meterkit collector'))
  }

  /** `nats://… stream NAME, N partitions`, for the start line. */
  describe(): string {
    const { nc, layout } = this.connection
    return `${nc.getServer()} stream ${layout.name}, ${layout.partitions} partitions`
  }

  /** Publishes still in flight finish; then the connection closes. */
  async close(): Promise<void> {
    this.relay.close()
    await this.connection.nc.drain().catch(() => undefined)
  }
}

// The collector's side of queue mode: a validated batch becomes one message per partition it
// touches, each published with its `Nats-Msg-Id`, and the batch is answered `queued` only once
// JetStream has acknowledged every one of them. If any publish fails, the request fails (503):
// the client sends the whole batch again, and what was already published is dropped as a copy.
import type { IngestBatch, IngestSink } from '@meterkit/engine'
import type { ValidEvent } from '@meterkit/protocol'
import { JetStreamApiError } from '@nats-io/jetstream'
import type { QueueHealth } from './health.js'
import { encodeBatch, messageId } from './message.js'
import { partitionOf } from './partition.js'
import { REQUEST_TIMEOUT_MS, type QueueConnection } from './stream.js'

/** A batch JetStream did not take: nothing of it is acknowledged to the client. */
export class QueueUnavailableError extends Error {
  readonly code = 'QUEUE_UNAVAILABLE'
  constructor(message: string, readonly retryAfterSeconds: number) {
    super(message)
  }
}

/** JetStream's answers to a publish into a stream at its size or message cap. */
const STREAM_FULL = new Set([10077, 10078]) // maximum bytes exceeded, maximum messages exceeded

export class QueuePublisher implements IngestSink {
  constructor(private readonly q: QueueConnection, private readonly health: QueueHealth) {}

  async ingest(batch: IngestBatch): Promise<'queued'[]> {
    const away = this.health.unreachable()
    if (away !== undefined) throw new QueueUnavailableError(away, 1)
    const { layout, js } = this.q
    const parts = new Map<number, ValidEvent[]>()
    for (const e of batch.events) {
      const p = partitionOf(batch.tenantId, e.customerId, layout.partitions)
      const part = parts.get(p)
      if (part === undefined) parts.set(p, [e])
      else part.push(e)
    }
    try {
      await Promise.all([...parts].map(([p, events]) => js.publish(
        layout.subject(p),
        encodeBatch(batch.tenantId, batch.source, batch.receivedAtMs, events),
        { msgID: messageId(batch.tenantId, batch.source, events), timeout: REQUEST_TIMEOUT_MS },
      )))
    } catch (err) {
      if (err instanceof JetStreamApiError && STREAM_FULL.has(err.code)) {
        throw new QueueUnavailableError(`the event stream ${layout.name} is full (${err.message}); workers are behind`, 5)
      }
      throw new QueueUnavailableError(`the event stream did not take the batch: ${(err as Error).message}`, 1)
    }
    return batch.events.map(() => 'queued' as const)
  }
}

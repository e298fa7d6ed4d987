// Queue mode: collectors publish validated batches to a NATS JetStream stream, and workers apply
// it to the PostgreSQL store (docs/decisions/0013-queue-mode.md).
export { CollectorQueue } from './collector-queue.js'
export { QueueHealth } from './health.js'
export { LiveRelay, type LiveChange } from './live-relay.js'
export { MessageError, decodeBatch, encodeBatch, messageId } from './message.js'
export { DEFAULT_PARTITIONS, DEFAULT_STREAM, type QueueOptions, parseQueueServers, queueOptions } from './options.js'
export { fnv1a, partitionOf } from './partition.js'
export { QueuePublisher, QueueUnavailableError } from './publisher.js'
export { type QueueConnection, StreamLayout, connectQueue, ensureConsumer } from './stream.js'
export { QueueWorker, type QueueWorkerOptions, type WorkerCounts } from './worker.js'

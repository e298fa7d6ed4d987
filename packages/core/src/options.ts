// The client's options (CONTRACT §2) and their defaults, shared by every runtime package.
import type { EventBuffer } from './buffer.js'
import type { DropHandler, ErrorHandler } from './delivery.js'
import type { Clock, Timers } from './time.js'
import type { Transport } from './transport.js'

export interface MeterkitCoreOptions {
  transport: Transport
  /** Durable buffer; without one, undeliverable events are dropped through onDrop. */
  buffer?: EventBuffer
  /** Events per batch (default 100, at most MAX_BATCH_EVENTS). */
  flushAt?: number
  /** Longest time an event waits in memory before its batch is sent (default 5000). */
  flushIntervalMs?: number
  /** Request body size cap (default 512 KiB, at most MAX_BATCH_BYTES). */
  maxBatchBytes?: number
  /** Events held in memory (queued or being sent); past it events spill to the buffer or drop. */
  maxQueueEvents?: number
  /** Retries after the first attempt before a batch is given up (default 10). */
  maxRetries?: number
  /** Requests in flight at once from the memory queue (default 2). */
  maxConcurrentRequests?: number
  onError?: ErrorHandler
  onDrop?: DropHandler
  clock?: Clock
  timers?: Timers
  /** Uniform in [0, 1): the backoff jitter. */
  random?: () => number
  /** Event id generator (default UUIDv7 at the clock's time). */
  generateId?: (nowMs: number) => string
}

export const DEFAULTS = {
  flushAt: 100,
  flushIntervalMs: 5000,
  maxBatchBytes: 512 * 1024,
  maxQueueEvents: 10_000,
  maxRetries: 10,
  maxConcurrentRequests: 2,
  shutdownTimeoutMs: 30_000,
} as const


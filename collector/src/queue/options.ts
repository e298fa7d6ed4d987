// Queue mode's settings (`--queue nats://host:port`, `--queue-stream`, …) and their rules.
import { MAX_PARTITIONS } from '@meterkit/engine'

export interface QueueOptions {
  /** NATS servers, each `nats://host:port` (a comma-separated `--queue` gives several). */
  servers: string[]
  /** The JetStream stream (and subject prefix) of this deployment (default `meterkit`). */
  stream: string
  /** Partitions of a stream created now; an existing stream keeps its own (default 16). */
  partitions: number
  /** Size cap of a stream created now, in bytes (default 1 GiB); past it, ingest answers 503. */
  maxBytes: number
  /** How long JetStream remembers a message id to drop a resent copy, in ms (default 2 min). */
  duplicateWindowMs: number
}

export const DEFAULT_STREAM = 'meterkit'
export const DEFAULT_PARTITIONS = 16
export const DEFAULT_MAX_BYTES = 1024 ** 3
export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000

const STREAM_NAME = /^[A-Za-z0-9_-]{1,32}$/

/** The servers of a `--queue` value; throws an Error naming the rule. */
export function parseQueueServers(text: string): string[] {
  const servers = text.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (servers.length === 0) throw new Error('--queue must be nats://host:port')
  for (const s of servers) {
    let url: URL
    try {
      url = new URL(s)
    } catch {
      throw new Error(`--queue must be nats://host:port (got "${s}")`)
    }
    if (url.protocol !== 'nats:' || url.hostname === '' || (url.pathname !== '' && url.pathname !== '/')) {
      throw new Error(`--queue must be nats://host:port (got "${s}")`)
    }
  }
  return servers
}

/** Queue options from the command line's values; throws an Error naming the option and the rule. */
export function queueOptions(values: { queue: string; stream?: string; partitions?: string; maxBytes?: string }): QueueOptions {
  const stream = values.stream ?? DEFAULT_STREAM
  if (!STREAM_NAME.test(stream)) throw new Error('--queue-stream must be 1–32 characters of A-Za-z0-9_-')
  const partitions = values.partitions === undefined ? DEFAULT_PARTITIONS : Number(values.partitions)
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) throw new Error(`--queue-partitions must be an integer from 1 to ${MAX_PARTITIONS}`)
  const maxBytes = values.maxBytes === undefined ? DEFAULT_MAX_BYTES : Number(values.maxBytes)
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024 * 1024) throw new Error('--queue-max-bytes must be a whole number of bytes, at least 1048576')
  return { servers: parseQueueServers(values.queue), stream, partitions, maxBytes, duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS }
}

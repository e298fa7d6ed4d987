// The connection to NATS and the event stream's layout: `<stream>.events.<p>` subjects, one per
// partition (the stream's subject list is the partition count's one record, so collectors and
// workers never disagree about it), and `<stream>.live` for live-stream notices. The stream is a
// work queue: a message stays until a worker acks it, and a full stream refuses new messages
// (discard new), which is how ingest learns to answer 503.
import { AckPolicy, DeliverPolicy, DiscardPolicy, type JetStreamClient, JetStreamApiError, type JetStreamManager, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { type NatsConnection, connect } from '@nats-io/transport-node'
import type { QueueOptions } from './options.js'

const NS_PER_MS = 1_000_000

/** How a connection's requests wait for JetStream (publishes, stream and consumer calls), in ms. */
export const REQUEST_TIMEOUT_MS = 5000

export class StreamLayout {
  constructor(readonly name: string, readonly partitions: number) {}

  subject(partition: number): string {
    return `${this.name}.events.${partition}`
  }

  get liveSubject(): string {
    return `${this.name}.live`
  }

  /** The durable consumer of one partition. */
  consumer(partition: number): string {
    return `p${partition}`
  }
}

export interface QueueConnection {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  layout: StreamLayout
}

/**
 * Connects (reconnecting for ever after a loss) and makes sure the stream exists: the first
 * process to start creates it with `options.partitions`; every other one takes its layout.
 */
export async function connectQueue(options: QueueOptions, name: string): Promise<QueueConnection> {
  let nc: NatsConnection
  try {
    nc = await connect({
      servers: options.servers,
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: REQUEST_TIMEOUT_MS,
      // This process's own live notices are not sent back to it: it told its streams already.
      noEcho: true,
    })
  } catch (err) {
    throw new Error(`--queue: no NATS server answers at ${options.servers.join(', ')} (${(err as Error).message})`)
  }
  try {
    const jsm = await jetstreamManager(nc, { timeout: REQUEST_TIMEOUT_MS })
    const layout = await ensureStream(jsm, options)
    return { nc, js: jetstream(nc, { timeout: REQUEST_TIMEOUT_MS }), jsm, layout }
  } catch (err) {
    await nc.close().catch(() => undefined)
    throw err
  }
}

const isApiError = (err: unknown, code: number) => err instanceof JetStreamApiError && err.code === code

async function ensureStream(jsm: JetStreamManager, options: QueueOptions): Promise<StreamLayout> {
  const layout = new StreamLayout(options.stream, options.partitions)
  try {
    return layoutOf(await jsm.streams.info(options.stream))
  } catch (err) {
    if (!isApiError(err, 10059)) throw describeJetStream(err, options)
  }
  try {
    await jsm.streams.add({
      name: options.stream,
      description: 'Meterkit events, partitioned by customer, until a worker applies them',
      subjects: Array.from({ length: options.partitions }, (_, p) => layout.subject(p)),
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      max_bytes: options.maxBytes,
      duplicate_window: options.duplicateWindowMs * NS_PER_MS,
    })
    return layout
  } catch (err) {
    // Another process created it meanwhile: its layout is the one.
    return layoutOf(await jsm.streams.info(options.stream).catch(() => {
      throw describeJetStream(err, options)
    }))
  }
}

function layoutOf(info: { config: { name: string; subjects?: string[] } }): StreamLayout {
  const subjects = info.config.subjects ?? []
  const layout = new StreamLayout(info.config.name, subjects.length)
  if (subjects.length === 0 || subjects.some((s, p) => s !== layout.subject(p))) {
    throw new Error(`stream ${info.config.name} exists but is not a Meterkit event stream (subjects ${subjects.join(', ')}); name another with --queue-stream`)
  }
  return layout
}

function describeJetStream(err: unknown, options: QueueOptions): Error {
  return new Error(`--queue: JetStream on ${options.servers.join(', ')} refused stream ${options.stream}: ${(err as Error).message}`)
}

/** Makes sure a partition's durable pull consumer exists; with `fresh`, it is made anew. */
export async function ensureConsumer(q: QueueConnection, partition: number, fresh = false): Promise<void> {
  const { jsm, layout } = q
  const name = layout.consumer(partition)
  if (fresh) await jsm.consumers.delete(layout.name, name).catch((err: unknown) => {
    if (!isApiError(err, 10014)) throw err
  })
  else {
    try {
      await jsm.consumers.info(layout.name, name)
      return
    } catch (err) {
      if (!isApiError(err, 10014)) throw err
    }
  }
  try {
    await jsm.consumers.add(layout.name, {
      durable_name: name,
      filter_subject: layout.subject(partition),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30_000 * NS_PER_MS,
      max_deliver: -1,
      max_ack_pending: 4096,
    })
  } catch (err) {
    // Made by another worker meanwhile (a race at first start): it is the same consumer.
    if (!(await jsm.consumers.info(layout.name, name).then(() => true, () => false))) throw err
  }
}

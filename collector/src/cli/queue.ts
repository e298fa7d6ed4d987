// Where CLI commands find the queue of queue mode: `--queue nats://host:port` (or MK_QUEUE),
// `--queue-stream NAME` (MK_QUEUE_STREAM, default meterkit), and, for a stream created now,
// `--queue-partitions N` and `--queue-max-bytes N`.
import { type QueueOptions, queueOptions } from '../queue/index.js'

/** The parseArgs options of a command that takes a queue. */
export const QUEUE_OPTIONS = {
  queue: { type: 'string' },
  'queue-stream': { type: 'string' },
  'queue-partitions': { type: 'string' },
  'queue-max-bytes': { type: 'string' },
} as const

type QueueValues = { queue?: string; 'queue-stream'?: string; 'queue-partitions'?: string; 'queue-max-bytes'?: string }

/** The queue named on the command line or in the environment; undefined when none is. */
export function queueFromArgs(values: QueueValues): QueueOptions | undefined {
  const queue = values.queue ?? process.env.MK_QUEUE
  if (queue === undefined || queue === '') return undefined
  return queueOptions({
    queue,
    stream: values['queue-stream'] ?? process.env.MK_QUEUE_STREAM,
    partitions: values['queue-partitions'] ?? process.env.MK_QUEUE_PARTITIONS,
    maxBytes: values['queue-max-bytes'] ?? process.env.MK_QUEUE_MAX_BYTES,
  })
}

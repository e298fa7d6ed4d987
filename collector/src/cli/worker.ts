// `meterkit worker`: applies the event stream of queue mode to the PostgreSQL store, in this
// very process; SIGTERM/SIGINT finish the groups in hand, give the partitions back and exit.
import { parseArgs } from 'node:util'
import { PartitionLeases, PostgresStore } from '@meterkit/engine'
import { LOG_LEVELS, createLogger, isLogLevel, logFunction } from '../logger.js'
import { LiveRelay, QueueWorker, connectQueue } from '../queue/index.js'
import { DATABASE_OPTIONS, describeStore, storeUrl } from './database.js'
import { QUEUE_OPTIONS, queueFromArgs } from './queue.js'

export async function workerCommand(argv: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: { ...DATABASE_OPTIONS, ...QUEUE_OPTIONS, 'log-level': { type: 'string' } },
    strict: true,
  })
  const url = storeUrl(values)
  if (url.kind !== 'postgres') throw new Error('worker: --store must be the postgres:// store the collectors share')
  const queue = queueFromArgs(values)
  if (queue === undefined) throw new Error('worker: --queue nats://host:port is required (or MK_QUEUE)')
  const logLevel = values['log-level'] ?? process.env.MK_LOG_LEVEL ?? 'info'
  if (!isLogLevel(logLevel)) throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}`)
  const log = logFunction(createLogger({ level: logLevel }))

  const connection = await connectQueue(queue, 'meterkit worker')
  let store: PostgresStore
  try {
    store = await PostgresStore.open(url.url)
  } catch (err) {
    await connection.nc.close()
    throw err
  }
  const leases = PartitionLeases.open(url.url)
  const worker = new QueueWorker({ store, leases, queue: connection, relay: new LiveRelay(connection.nc, connection.layout.liveSubject), log })

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`meterkit worker: ${signal} received, finishing the work in hand`)
    void worker.close()
      .then(() => connection.nc.drain())
      .then(() => store.close())
      .then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
  await worker.start()
  const { layout } = connection
  console.log(`meterkit worker running (store ${describeStore(url)}, queue ${connection.nc.getServer()} stream ${layout.name}, ${layout.partitions} partitions)`)
  return undefined
}

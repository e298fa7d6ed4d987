// How fast a partition changes hands after its holder is killed (kill -9), by the two lease
// designs queue mode could use (docs/decisions/0013-queue-mode.md), in the same run:
//
// - a PostgreSQL session advisory lock (what the workers use): the holder's connection closes
//   with the process, and the lock with it;
// - a JetStream KV-style lease (what was not chosen): a key in a stream with `max_age` = TTL and
//   one message per subject, created with an expected last sequence of 0 and renewed every TTL/3
//   with the sequence of the last renewal; after the holder dies, the key must expire first.
//
// A contender asks every 50 ms in both cases. Trials alternate; the figure is the median of each.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { openPool } from '@meterkit/engine'

const TRIALS = Number(process.env.BENCH_TRIALS ?? 5)
const TTL_MS = 3000
const POLL_MS = 50
const ADMIN_URL = process.env.MK_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const NATS_URL = process.env.MK_BENCH_NATS ?? 'nats://127.0.0.1:4222'

const fromCollector = createRequire(new URL('../../collector/package.json', import.meta.url))
const transport = fromCollector.resolve('@nats-io/transport-node')
const jetstreamPath = fromCollector.resolve('@nats-io/jetstream')
const pgPath = createRequire(new URL('../../packages/engine/package.json', import.meta.url)).resolve('pg')
const { connect } = await import(transport)
const { jetstream, jetstreamManager } = await import(jetstreamPath)

/** A holder process running `script`; resolves once it prints "held". */
function holder(script) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (c) => String(c).includes('held') && resolve(child))
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)))
  })
}

async function killed(child) {
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGKILL')
  await exited
}

async function until(tryTake) {
  for (;;) {
    if (await tryTake()) return
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const lockKey = 0x6d71
const pool = openPool(ADMIN_URL, { max: 1 })
const nc = await connect({ servers: NATS_URL })
const jsm = await jetstreamManager(nc)
const js = jetstream(nc)
const stream = `mk_lease_${randomBytes(4).toString('hex')}`
await jsm.streams.add({ name: stream, subjects: [`${stream}.lease.*`], max_msgs_per_subject: 1, max_age: TTL_MS * 1e6, storage: 'memory' })
const advisory = []
const kv = []
try {
  for (let trial = 0; trial < TRIALS; trial++) {
    const partition = 1000 + trial
    // PostgreSQL advisory lock.
    const pgHolder = await holder(`
      import pg from ${JSON.stringify(pgPath)}
      const c = new pg.Client({ connectionString: ${JSON.stringify(ADMIN_URL)} })
      await c.connect()
      await c.query('SELECT pg_advisory_lock($1, $2)', [${lockKey}, ${partition}])
      console.log('held')
      setInterval(() => {}, 1000)`)
    let t0 = performance.now()
    await killed(pgHolder)
    await until(async () => (await pool.query('SELECT pg_try_advisory_lock($1, $2) AS ok', [lockKey, partition])).rows[0].ok)
    advisory.push(performance.now() - t0)
    await pool.query('SELECT pg_advisory_unlock($1, $2)', [lockKey, partition])

    // JetStream KV-style lease.
    const subject = `${stream}.lease.${trial}`
    const kvHolder = await holder(`
      import { connect } from ${JSON.stringify(transport)}
      import { jetstream } from ${JSON.stringify(jetstreamPath)}
      const nc = await connect({ servers: ${JSON.stringify(NATS_URL)} })
      const js = jetstream(nc)
      let seq = (await js.publish(${JSON.stringify(subject)}, 'holder', { expect: { lastSubjectSequence: 0 } })).seq
      console.log('held')
      setInterval(async () => { seq = (await js.publish(${JSON.stringify(subject)}, 'holder', { expect: { lastSubjectSequence: seq } })).seq }, ${TTL_MS / 3})`)
    t0 = performance.now()
    await killed(kvHolder)
    await until(() => js.publish(subject, 'contender', { expect: { lastSubjectSequence: 0 } }).then(() => true, () => false))
    kv.push(performance.now() - t0)
  }
  const a = median(advisory)
  const k = median(kv)
  console.log(`takeover after kill -9, PostgreSQL session advisory lock: median ${a.toFixed(0)} ms (${advisory.map((x) => x.toFixed(0)).join(', ')})`)
  console.log(`takeover after kill -9, JetStream KV-style lease (TTL ${TTL_MS} ms, renewed every ${TTL_MS / 3} ms): median ${k.toFixed(0)} ms (${kv.map((x) => x.toFixed(0)).join(', ')})`)
  console.log('::result::' + JSON.stringify({
    name: 'leases',
    figures: [
      { name: 'takeover after kill -9, JetStream KV-style lease (TTL 3 s)', value: Math.round(k), unit: 'ms' },
      { name: 'takeover after kill -9, PostgreSQL advisory lock', value: Math.round(a), unit: 'ms', baseline: 'takeover after kill -9, JetStream KV-style lease (TTL 3 s)', ratio: a / k },
    ],
  }))
} finally {
  await jsm.streams.delete(stream).catch(() => undefined)
  await nc.close()
  await pool.end()
}

// A transaction on a connection of its own from the pool, for the store's records outside the
// engine's `Tx` (tenants, keys, webhook bookkeeping). `writeLock`: hold the store's write lock
// from the start, as every writer of the database does.
import type pg from 'pg'
import { LOCK_NAMESPACE, WRITE_LOCK } from './locks.js'

export async function poolTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, options: { writeLock?: boolean } = {}): Promise<T> {
  const client = await pool.connect()
  // A connection lost while checked out reports it here as well as through the query in flight.
  let broken: Error | undefined
  const onError = (err: Error) => (broken = err)
  client.on('error', onError)
  try {
    await client.query('BEGIN')
    if (options.writeLock) await client.query({ name: 'mk_write_lock', text: 'SELECT pg_advisory_xact_lock($1, $2)', values: [LOCK_NAMESPACE, WRITE_LOCK] })
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr))
    throw err
  } finally {
    // Later reports of a connection being closed go to the listener openPool gave it.
    client.off('error', onError)
    client.release(broken)
  }
}

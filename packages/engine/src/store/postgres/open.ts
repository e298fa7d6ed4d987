// Opening the PostgreSQL store: a pool, the schema migrated (or refused when newer), the storage port.
import type pg from 'pg'
import { type PoolOptions, openPool, storeError } from './connection.js'
import { migrate } from './migrations.js'
import { PostgresStorage, type PostgresStorageOptions } from './postgres-storage.js'

export interface PostgresHandle {
  readonly pool: pg.Pool
  readonly storage: PostgresStorage
  /** Closes every connection; transactions in flight finish first. */
  close(): Promise<void>
}

export async function openPostgres(url: string, options: PoolOptions & PostgresStorageOptions = {}): Promise<PostgresHandle> {
  const pool = openPool(url, options)
  try {
    await migrate(pool)
  } catch (err) {
    await pool.end()
    throw storeError(err, url)
  }
  return { pool, storage: new PostgresStorage(pool, url, options), close: () => pool.end() }
}

// The storage port on PostgreSQL: each transaction on a connection of its own from the pool.
// `read` transactions see one snapshot (REPEATABLE READ, read only). `write` transactions take
// the store's write lock first (locks.ts), so the writers of every process on the database
// take turns, and run at READ COMMITTED: a snapshot taken before the lock was granted would
// miss what the previous writer committed, while under the lock each statement sees every
// write before it and nothing can change behind it.
import type pg from 'pg'
import type { IngestBatch, IngestOutcome } from '../port.js'
import type { Storage, TransactionMode } from '../storage.js'
import { AppendGroups } from './append-groups.js'
import { APPEND_LOCK, LOCK_NAMESPACE, WRITE_LOCK } from './locks.js'
import { storeError } from './connection.js'
import { Sql } from './sql.js'
import { type PgTx, type PgTxCaches, pgTx } from './pg-tx.js'

/** SQLSTATEs after which the whole transaction may run again: nothing of it was committed. */
const RETRYABLE = new Set(['40001', '40P01']) // serialization_failure, deadlock_detected

/** The port's modes, and appends (ingest), which take the append lock alone. */
type Mode = TransactionMode | 'append'

export interface PostgresStorageOptions {
  /** Attempts of a transaction that meets a serialization failure or a deadlock (default 5). */
  maxAttempts?: number
}

export class PostgresStorage implements Storage {
  private readonly maxAttempts: number
  private readonly caches: PgTxCaches = { configs: new Map() }
  private readonly appends = new AppendGroups((batches) => this.attempts('append', (tx) => tx.events.appendGroup(batches)))
  /** Write transactions of this process queue here, so that at most one connection waits on the lock. */
  private writeTail: Promise<unknown> = Promise.resolve()

  /** `pool`: one of openPool's, whose connections each keep an 'error' listener for their whole life. */
  constructor(private readonly pool: pg.Pool, private readonly url: string, options: PostgresStorageOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? 5
  }

  /**
   * Runs `fn` in one transaction and commits when it resolves. A transaction that fails on a
   * serialization failure or a deadlock is rolled back and `fn` runs again (up to `maxAttempts`),
   * so `fn` must keep its effects inside `tx`. A database that cannot be reached answers a
   * StoreUnavailableError; a connection lost during COMMIT is never retried (it may have committed).
   */
  transaction<T>(mode: TransactionMode, fn: (tx: PgTx) => Promise<T>): Promise<T> {
    if (mode === 'read') return this.attempts(mode, fn)
    const run = this.writeTail.then(() => this.attempts(mode, fn))
    this.writeTail = run.catch(() => undefined)
    return run
  }

  /**
   * Stores an ingest batch in a transaction that holds only the append lock, not the write lock:
   * ingest never waits behind a billing run or a fold, and appends of every process still commit
   * their seqs in order (locks.ts). Batches that arrive together share a transaction (group
   * commit). Duplicates and conflicts are told apart as in `tx.events.append`.
   */
  append(batch: IngestBatch): Promise<IngestOutcome[]> {
    if (batch.events.length === 0) return Promise.resolve([])
    return this.appends.submit(batch)
  }

  /** Resolves when the database answers a query; a StoreUnavailableError otherwise (readiness probes). */
  async ping(): Promise<void> {
    try {
      await this.pool.query('SELECT 1')
    } catch (err) {
      throw storeError(err, this.url)
    }
  }

  private async attempts<T>(mode: Mode, fn: (tx: PgTx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(mode, fn)
      } catch (err) {
        const code = (err as { code?: unknown }).code
        if (attempt >= this.maxAttempts || typeof code !== 'string' || !RETRYABLE.has(code)) throw storeError(err, this.url)
      }
    }
  }

  private async once<T>(mode: Mode, fn: (tx: PgTx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    let unusable: Error | undefined
    // A connection lost while checked out is reported as an 'error' event as well as through the
    // query in flight: heard here, it keeps the connection from being handed out again. (Every
    // connection of openPool's pools also has a listener of its own, so no report goes unheard.)
    const lost = (err: Error) => (unusable = err)
    client.on('error', lost)
    try {
      if (mode === 'read') {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      } else if (mode === 'append') {
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED')
        await client.query({ name: 'mk_append_lock', text: 'SELECT pg_advisory_xact_lock($1, $2)', values: [LOCK_NAMESPACE, APPEND_LOCK] })
      } else {
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED')
        await client.query({ name: 'mk_write_lock', text: 'SELECT pg_advisory_xact_lock($1, $2)', values: [LOCK_NAMESPACE, WRITE_LOCK] })
      }
      const result = await fn(pgTx(new Sql(client), this.caches))
      await client.query('COMMIT')
      return result
    } catch (err) {
      // Roll back whatever is open (after a failed COMMIT there is nothing, which is harmless);
      // a connection that cannot even do that is closed rather than handed to the next transaction.
      await client.query('ROLLBACK').catch((rollbackErr: Error) => (unusable = rollbackErr))
      throw err
    } finally {
      client.off('error', lost)
      client.release(unusable)
    }
  }
}

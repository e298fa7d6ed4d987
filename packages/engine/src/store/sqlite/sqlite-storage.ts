// The storage port on SQLite: transactions on one connection, taken one at a time. Every
// primitive runs synchronously inside the transaction, so a transaction never waits on I/O
// between its statements; the queue only keeps two of them from sharing the connection.
import type Database from 'better-sqlite3'
import type { Storage, TransactionMode, Tx } from '../storage.js'

export class SqliteStorage implements Storage {
  private tail: Promise<unknown> = Promise.resolve()

  constructor(private readonly db: Database.Database, private readonly tx: Tx) {}

  transaction<T>(mode: TransactionMode, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.queued(() => this.run(mode, fn))
  }

  /**
   * Runs synchronous work on the connection in its turn, between transactions: code that opens
   * its own SQLite transaction must not land inside another caller's.
   */
  exclusive<T>(fn: () => T): Promise<Awaited<T>> {
    return this.queued(async (): Promise<Awaited<T>> => await fn())
  }

  private queued<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn)
    this.tail = run.catch(() => undefined)
    return run
  }

  private async run<T>(mode: TransactionMode, fn: (tx: Tx) => Promise<T>): Promise<T> {
    // IMMEDIATE takes the write lock at the start, so what a write transaction reads stays true.
    this.db.exec(mode === 'write' ? 'BEGIN IMMEDIATE' : 'BEGIN')
    try {
      const result = await fn(this.tx)
      this.db.exec('COMMIT')
      return result
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK')
      throw err
    }
  }
}

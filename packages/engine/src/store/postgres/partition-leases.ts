// Partition leases of queue-mode workers: a session advisory lock per partition, held on one
// connection of the worker's own. A worker that dies (kill -9, a lost host) loses its
// connection and with it every lease at once, so another worker's next round takes them over;
// there is no expiry to wait for and no clock to trust. Every live worker also holds one shared
// presence lock: their count is what each takes as its fair share of the partitions.
import type pg from 'pg'
import { openPool } from './connection.js'

/** 'mq' in ASCII: the classid half of the partition locks (the store's own locks use 'mk'). */
export const PARTITION_LOCK_NAMESPACE = 0x6d71

/** The presence lock's key (partition numbers stay below it). */
const PRESENCE = 65_535

/** Most partitions a stream may have. */
export const MAX_PARTITIONS = 1024

export interface LeaseRound {
  /** The partitions this worker holds after the round, ascending. */
  owned: number[]
  /** Partitions gained in this round: start working them. */
  gained: number[]
  /** Partitions held past the fair share: stop working them, then `release` each. */
  surplus: number[]
  /** Live workers on the database, this one included. */
  workers: number
}

const WORKERS = `SELECT count(*)::int AS n FROM pg_locks
  WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND classid = $1 AND objid = $2 AND objsubid = 2`
const HELD = `SELECT objid::int AS p FROM pg_locks
  WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND classid = $1 AND objid < $2 AND objsubid = 2`

export class PartitionLeases {
  private client: pg.PoolClient | undefined
  private readonly owned = new Set<number>()
  private lostListener: ((err: Error) => void) | undefined

  private constructor(private readonly pool: pg.Pool) {}

  /** Leases on the database at `url`; nothing is held until the first round. */
  static open(url: string): PartitionLeases {
    return new PartitionLeases(openPool(url, { max: 1, connectTimeoutMs: 5000 }))
  }

  /** Called once when the lease connection is lost: every lease is gone with it. */
  onLost(listener: (err: Error) => void): void {
    this.lostListener = listener
  }

  /** The partitions held now. */
  held(): number[] {
    return [...this.owned].sort((a, b) => a - b)
  }

  /**
   * One round: joins the workers (after a lost connection, anew), counts them, and takes free
   * partitions up to the fair share, ceil(partitions / workers). Partitions held past the share
   * are named as surplus for the caller to drain and release, so that a worker that joins gets
   * its part within a round or two.
   */
  async round(partitions: number): Promise<LeaseRound> {
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) throw new RangeError(`partitions: must be an integer from 1 to ${MAX_PARTITIONS}`)
    const client = await this.connection()
    try {
      return await this.take(client, partitions)
    } catch (err) {
      // A lease query that failed leaves no certainty about any lease: all are given up.
      this.lose(client, err as Error)
      throw err
    }
  }

  private async take(client: pg.PoolClient, partitions: number): Promise<LeaseRound> {
    const workers = Math.max(1, (await client.query<{ n: number }>(WORKERS, [PARTITION_LOCK_NAMESPACE, PRESENCE])).rows[0]!.n)
    const share = Math.ceil(partitions / workers)
    const gained: number[] = []
    if (this.owned.size < share) {
      const held = new Set((await client.query<{ p: number }>(HELD, [PARTITION_LOCK_NAMESPACE, PRESENCE])).rows.map((r) => r.p))
      for (let p = 0; p < partitions && this.owned.size < share; p++) {
        if (held.has(p)) continue
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [PARTITION_LOCK_NAMESPACE, p])
        if (rows[0]!.ok) {
          this.owned.add(p)
          gained.push(p)
        }
      }
    }
    const owned = this.held()
    // The highest-numbered go first: the lowest stay where they are, so that takeovers stay few.
    const surplus = owned.length > share ? owned.slice(share) : []
    return { owned, gained, surplus, workers }
  }

  /** Gives a partition up (after its work is drained), for another worker's next round. */
  async release(partition: number): Promise<void> {
    if (!this.owned.delete(partition) || this.client === undefined) return
    await this.client.query('SELECT pg_advisory_unlock($1, $2)', [PARTITION_LOCK_NAMESPACE, partition])
  }

  /** Releases everything (closing the connection drops every lock). */
  async close(): Promise<void> {
    this.owned.clear()
    const client = this.client
    this.client = undefined
    client?.release(true)
    await this.pool.end()
  }

  /** Every session lock went with the connection: none is ours any more. */
  private lose(client: pg.PoolClient, err: Error): void {
    if (this.client !== client) return
    this.client = undefined
    this.owned.clear()
    client.release(true)
    this.lostListener?.(err)
  }

  private async connection(): Promise<pg.PoolClient> {
    if (this.client !== undefined) return this.client
    const client = await this.pool.connect()
    client.on('error', (err: Error) => this.lose(client, err))
    try {
      await client.query('SELECT pg_advisory_lock_shared($1, $2)', [PARTITION_LOCK_NAMESPACE, PRESENCE])
    } catch (err) {
      client.release(true)
      throw err
    }
    this.client = client
    return client
  }
}

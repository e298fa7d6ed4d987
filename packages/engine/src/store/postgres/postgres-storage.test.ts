// The PostgreSQL store's mechanics, with two pools on one database standing for two collector
// processes: migrations, the write lock, read snapshots, the append lock and seq order, retries,
// and a database that cannot be reached or is killed under a transaction.
import type { Socket } from 'node:net'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isStoreUnavailable } from '../unavailable.js'
import { ADMIN_URL, createTestDatabase, postgresAvailable, type TestDatabase } from '../conformance/postgres-database.js'
import { validEvent } from '../conformance/harness.js'
import { openPool } from './connection.js'
import { SCHEMA_VERSION, SchemaTooNewError, migrate } from './migrations.js'
import { type PostgresHandle, openPostgres } from './open.js'
import { PostgresStorage } from './postgres-storage.js'

const available = await postgresAvailable()

/** Resolves when `check` holds, polling the database (never a fixed wait). */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await check()) return
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error('condition never held')
}

/**
 * Runs `fn` and answers the errors that reached the process unheard meanwhile: an 'error' event
 * that no listener takes is thrown from the socket's callback, where nothing can catch it.
 */
async function unheard(fn: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = []
  const note = (err: unknown) => void seen.push(err)
  process.on('uncaughtException', note)
  try {
    await fn()
  } finally {
    process.off('uncaughtException', note)
  }
  return seen
}

/** The socket under a pooled connection: paused, what the server sends waits unread in it. */
const socketOf = (client: pg.Client) => (client as unknown as { connection: { stream: Socket } }).connection.stream

/** A gate a transaction waits on, opened by the test. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void
  const wait = new Promise<void>((resolve) => (open = resolve))
  return { wait, open }
}

const batch = (prefix: string, n: number, tenantId = 1) => ({
  tenantId, source: 'server' as const, receivedAtMs: 1,
  events: Array.from({ length: n }, (_, i) => validEvent({ id: `${prefix}-${i}`, customerId: `cus_${i % 3}` })),
})

describe.skipIf(available !== true)('PostgreSQL store mechanics', () => {
  let db: TestDatabase
  let a: PostgresHandle
  let b: PostgresHandle
  let admin: pg.Pool

  beforeAll(async () => {
    db = await createTestDatabase()
    // Two "processes" opening one database at once: one migrates, the other finds it done.
    ;[a, b] = await Promise.all([openPostgres(db.url, { max: 4 }), openPostgres(db.url, { max: 4 })])
    admin = openPool(db.url, { max: 2 })
  })

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), admin?.end()])
    await db?.drop()
  })

  /** Advisory locks some session of this database waits for. */
  async function waitingOnLocks(): Promise<number> {
    const { rows } = await admin.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = $1", [db.name],
    )
    return rows[0]!.n
  }

  it('migrates once, records the version, and applying again changes nothing', async () => {
    const { rows } = await admin.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1))
    expect(await migrate(a.pool)).toBe(SCHEMA_VERSION)
    expect((await admin.query('SELECT version FROM schema_migrations')).rowCount).toBe(SCHEMA_VERSION)
  })

  it('refuses a database migrated by a newer version, writing nothing to it', async () => {
    const newer = await createTestDatabase()
    const pool = openPool(newer.url, { max: 1 })
    try {
      await pool.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())')
      await pool.query('INSERT INTO schema_migrations (version) VALUES ($1)', [SCHEMA_VERSION + 1])
      await expect(openPostgres(newer.url)).rejects.toThrow(SchemaTooNewError)
      await expect(openPostgres(newer.url)).rejects.toThrow(`schema version ${SCHEMA_VERSION + 1}, newer than this Meterkit's ${SCHEMA_VERSION}`)
      const { rows } = await pool.query<{ t: string | null }>("SELECT to_regclass('events')::text AS t")
      expect(rows[0]!.t).toBeNull()
    } finally {
      await pool.end()
      await newer.drop()
    }
  })

  it('write transactions of two processes take turns: the second starts only when the first commits', async () => {
    const held = gate()
    const order: string[] = []
    const first = a.storage.transaction('write', async (tx) => {
      order.push('a:start')
      await tx.watermarks.set('credits', 1)
      await held.wait
      order.push('a:end')
    })
    await until(async () => order.includes('a:start'))
    const second = b.storage.transaction('write', async (tx) => {
      order.push('b:start')
      // What the first wrote is seen: the lock was granted after its commit.
      return tx.watermarks.get('credits')
    })
    await until(async () => (await waitingOnLocks()) === 1)
    expect(order).toEqual(['a:start'])
    held.open()
    await first
    expect(await second).toBe(1)
    expect(order).toEqual(['a:start', 'a:end', 'b:start'])
  })

  it('a read transaction sees one snapshot, whatever commits meanwhile', async () => {
    const before = await a.storage.transaction('read', async (tx) => tx.events.maxSeq())
    const held = gate()
    const reading = a.storage.transaction('read', async (tx) => {
      const first = await tx.events.maxSeq()
      await held.wait
      return [first, await tx.events.maxSeq(), (await tx.events.range(before, before + 100)).length]
    })
    await until(async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND state = 'idle in transaction'", [db.name])).rowCount === 1)
    await b.storage.append(batch('snap', 5))
    held.open()
    expect(await reading).toEqual([before, before, 0])
    expect(await a.storage.transaction('read', async (tx) => tx.events.maxSeq())).toBe(before + 5)
  })

  it('appends of two processes commit their seqs in order: a reader never sees a seq before a smaller one', async () => {
    const start = await a.storage.transaction('read', async (tx) => tx.events.maxSeq())
    // Process A appends and holds its transaction open; B's append must wait for it.
    const client = await a.pool.connect()
    try {
      await client.query('BEGIN')
      const { PgEventRows } = await import('./event-rows.js')
      const { Sql } = await import('./sql.js')
      const outcomes = await new PgEventRows(new Sql(client)).append(batch('held', 3))
      expect(outcomes).toEqual(['accepted', 'accepted', 'accepted'])
      const second = b.storage.append(batch('after', 2))
      await until(async () => (await waitingOnLocks()) === 1)
      // Nothing of either is visible yet, so a fold's watermark cannot pass A's seqs.
      expect(await b.storage.transaction('read', async (tx) => tx.events.maxSeq())).toBe(start)
      await client.query('COMMIT')
      expect(await second).toEqual(['accepted', 'accepted'])
    } finally {
      client.release()
    }
    const events = await a.storage.transaction('read', async (tx) => tx.events.range(start, start + 10))
    expect(events.map((e) => [e.seq, e.id])).toEqual([
      [start + 1, 'held-0'], [start + 2, 'held-1'], [start + 3, 'held-2'], [start + 4, 'after-0'], [start + 5, 'after-1'],
    ])
  })

  it('a fold that moves its watermark to the greatest seq it sees folds every event, under appends from both processes', async () => {
    const start = await a.storage.transaction('read', async (tx) => tx.events.maxSeq())
    const folded: string[] = []
    let watermark = start
    let appending = true
    const fold = (async () => {
      while (appending || watermark < (await a.storage.transaction('read', async (tx) => tx.events.maxSeq()))) {
        const events = await a.storage.transaction('read', async (tx) => tx.events.range(watermark, await tx.events.maxSeq()))
        for (const e of events) folded.push(e.id)
        if (events.length > 0) watermark = events[events.length - 1]!.seq
        await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    const appenders = [a, b, a, b].map(async (h, k) => {
      for (let i = 0; i < 15; i++) await h.storage.append(batch(`race-${k}-${i}`, 4))
    })
    await Promise.all(appenders)
    appending = false
    await fold
    expect(folded).toHaveLength(4 * 15 * 4)
    expect(new Set(folded).size).toBe(folded.length)
  })

  it('appends that arrive together share a transaction, and a batch that fails sinks only itself', async () => {
    const start = await a.storage.transaction('read', async (tx) => tx.events.maxSeq())
    // PostgreSQL text holds no NUL: this batch fails in the database.
    const bad = { ...batch('bad', 1), events: [{ ...validEvent({ id: 'bad-0' }), propertiesJson: '{"a":"\u0000"}' }] }
    const otherContent = { ...batch('g2', 1), events: [validEvent({ id: 'g2-0', customerId: 'cus_other' })] }
    const results = await Promise.allSettled([
      a.storage.append(batch('g1', 2)), a.storage.append(batch('g2', 2)), a.storage.append(bad), a.storage.append(batch('g3', 2)),
      a.storage.append(batch('g1', 1)), a.storage.append(batch('g1', 1, 2)), a.storage.append(otherContent),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'])
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<string[]>).value)).toEqual([
      ['accepted', 'accepted'], ['accepted', 'accepted'], ['accepted', 'accepted'], ['duplicate'], ['accepted'], ['conflict'],
    ])
    const stored = await a.storage.transaction('read', async (tx) => tx.events.range(start, start + 100))
    expect(stored.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7].map((k) => start + k))
    expect(stored.map((e) => `${e.tenantId}:${e.id}`).sort()).toEqual(['1:g1-0', '1:g1-1', '1:g2-0', '1:g2-1', '1:g3-0', '1:g3-1', '2:g1-0'])
  })

  it('a transaction that a deadlock aborts runs again and commits', async () => {
    await admin.query("INSERT INTO customers (tenant_id, id, created_at) VALUES (9, 'x', 0), (9, 'y', 0) ON CONFLICT DO NOTHING")
    const outside = await admin.connect()
    let attempts = 0
    try {
      const outsidePid = (await outside.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
      await outside.query('BEGIN')
      await outside.query("UPDATE customers SET name = 'outside' WHERE tenant_id = 9 AND id = 'y'")
      const holdsX = gate()
      const outsideWaits = gate()
      const inside = a.storage.transaction('write', async (tx) => {
        attempts++
        const client = (tx.events as unknown as { sql: { client: pg.PoolClient } }).sql.client
        if (attempts > 1) {
          await tx.customers.ensure(9, 'z', 0)
          return attempts
        }
        // This side checks for the cycle first, so it is the one aborted.
        await client.query("SET LOCAL deadlock_timeout = '10ms'")
        await client.query("UPDATE customers SET name = 'inside' WHERE tenant_id = 9 AND id = 'x'")
        holdsX.open()
        await outsideWaits.wait
        await client.query("UPDATE customers SET name = 'inside' WHERE tenant_id = 9 AND id = 'y'")
        return attempts
      })
      await holdsX.wait
      const closing = outside.query("UPDATE customers SET name = 'outside' WHERE tenant_id = 9 AND id = 'x'")
      await until(async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'", [outsidePid])).rowCount === 1)
      outsideWaits.open()
      expect(await inside).toBe(2)
      await closing
      await outside.query('COMMIT')
    } finally {
      outside.release()
    }
    expect((await admin.query("SELECT id, name FROM customers WHERE tenant_id = 9 ORDER BY id")).rows).toEqual([
      { id: 'x', name: 'outside' }, { id: 'y', name: 'outside' }, { id: 'z', name: null },
    ])
  })

  it('a connection killed under a transaction fails that transaction as unavailable; the next one gets a fresh connection', async () => {
    const held = gate()
    const pidSeen = gate()
    let pid = 0
    const doomed = a.storage.transaction('write', async (tx) => {
      const sql = (tx.events as unknown as { sql: { client: pg.PoolClient } }).sql.client
      pid = (await sql.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
      pidSeen.open()
      await held.wait
      await tx.watermarks.set('credits', 999)
    })
    await pidSeen.wait
    await admin.query('SELECT pg_terminate_backend($1)', [pid])
    held.open()
    const err = await doomed.catch((e: unknown) => e)
    expect(isStoreUnavailable(err)).toBe(true)
    expect((err as Error).message).toMatch(/^store unavailable: PostgreSQL at 127\.0\.0\.1:5432\/mk_/)
    await a.storage.ping()
    await a.storage.transaction('write', async (tx) => tx.watermarks.set('credits', 5))
    expect(await b.storage.transaction('read', async (tx) => tx.watermarks.get('credits'))).toBe(5)
  })

  /** A pool of its own with one connection, the connection, and its backend's pid. */
  async function onePool() {
    const pool = openPool(db.url, { max: 1 })
    const clients: pg.Client[] = []
    pool.on('connect', (client) => clients.push(client))
    const pid = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
    return { pool, storage: new PostgresStorage(pool, db.url), client: clients[0]!, pid }
  }
  /** A backend's state and the last statement it started; undefined once the backend is gone. */
  const backendState = async (pid: number) =>
    (await admin.query<{ state: string; query: string }>('SELECT state, query FROM pg_stat_activity WHERE pid = $1', [pid])).rows[0]
  /** Terminates a backend and waits until it is gone: its last report (57P01) has been sent. */
  async function terminate(pid: number): Promise<void> {
    await admin.query('SELECT pg_terminate_backend($1)', [pid])
    await until(async () => (await backendState(pid)) === undefined)
  }

  it('an idle pooled connection whose backend is terminated is dropped without a report reaching the process; the next transaction gets a fresh one', async () => {
    const { pool, storage, pid } = await onePool()
    try {
      const removed = new Promise((resolve) => pool.once('remove', resolve))
      const seen = await unheard(async () => {
        await terminate(pid)
        await removed
      })
      expect(seen).toEqual([])
      expect(await storage.transaction('read', async (tx) => tx.events.maxSeq())).toBeGreaterThanOrEqual(0)
      expect((await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid).not.toBe(pid)
    } finally {
      await pool.end()
    }
  })

  it('a connection whose backend ends in the same read as the answer that released it fails only the transaction it was handed to', async () => {
    const { pool, storage, client, pid } = await onePool()
    try {
      const socket = socketOf(client)
      let next: Promise<unknown> = Promise.resolve()
      const seen = await unheard(async () => {
        socket.pause()
        const ping = storage.ping()
        // Its answer is sent (idle after its own statement), and waits unread in the socket.
        await until(async () => {
          const backend = await backendState(pid)
          return backend?.state === 'idle' && backend.query === 'SELECT 1'
        })
        await terminate(pid)
        // Waits for the only connection: the ping's answer hands it over, and the 57P01 right
        // behind that answer, read in the same chunk, comes before the transaction's own listener.
        next = storage.transaction('read', async (tx) => tx.events.maxSeq()).catch((e: unknown) => e)
        socket.resume()
        await ping
        await next
      })
      expect(seen).toEqual([])
      expect(isStoreUnavailable(await next)).toBe(true)
      await storage.ping()
      expect(await storage.transaction('read', async (tx) => tx.events.maxSeq())).toBeGreaterThanOrEqual(0)
    } finally {
      await pool.end()
    }
  })

  it('a pool being closed when its backends are terminated (DROP DATABASE ... WITH (FORCE)) reports nothing to the process', async () => {
    const { pool, client, pid } = await onePool()
    const socket = socketOf(client)
    const closed = new Promise((resolve) => client.once('end', resolve))
    const seen = await unheard(async () => {
      socket.pause()
      await terminate(pid)
      // pool.end() resolves once its connections are told to close, before they are closed.
      await pool.end()
      socket.resume()
      await closed
    })
    expect(seen).toEqual([])
  })
})

describe('PostgreSQL store unreachable', () => {
  // A port nothing listens on: refused at once, no server needed.
  const url = 'postgres://postgres@127.0.0.1:1/meterkit'

  it('answers "store unavailable" naming where it tried, for opening and for transactions', async () => {
    const open = await openPostgres(url, { connectTimeoutMs: 2000 }).catch((e: unknown) => e)
    expect(isStoreUnavailable(open)).toBe(true)
    expect((open as Error).message).toMatch(/^store unavailable: PostgreSQL at 127\.0\.0\.1:1\/meterkit cannot serve now \(.*ECONNREFUSED/)
    const pool = openPool(url, { connectTimeoutMs: 2000 })
    try {
      const storage = new PostgresStorage(pool, url)
      const err = await storage.transaction('read', async (tx) => tx.events.maxSeq()).catch((e: unknown) => e)
      expect(isStoreUnavailable(err)).toBe(true)
      expect((err as Error).cause).toBeInstanceOf(Error)
      expect(isStoreUnavailable(await storage.ping().catch((e: unknown) => e))).toBe(true)
      expect(isStoreUnavailable(await storage.append({ tenantId: 1, source: 'server', receivedAtMs: 0, events: [validEvent({ id: 'x' })] }).catch((e: unknown) => e))).toBe(true)
    } finally {
      await pool.end()
    }
  })

  it('the test helper names the server it looked for', () => {
    expect(ADMIN_URL).toMatch(/^postgres(ql)?:\/\//)
  })
})

// Opens a pool of connections to a Meterkit PostgreSQL database. Integers come back as numbers
// (seqs, times in ms and counts stay below 2^53) and numerics as their exact decimal text.
import pg from 'pg'
import { StoreUnavailableError } from '../unavailable.js'

const INT8 = 20
const INT8_ARRAY = 1016

function parseInt8(text: string): number {
  const n = Number(text)
  // A value past 2^53 would silently lose digits as a number: a bug to hear about, never to round.
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${text} is past the safe integer range`)
  return n
}

function parseInt8Array(text: string): number[] {
  // '{1,2,3}': the array text of a bigint[] without NULLs, as the store writes them.
  return text.length <= 2 ? [] : text.slice(1, -1).split(',').map(parseInt8)
}

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8) return parseInt8
    if (oid === INT8_ARRAY) return parseInt8Array
    return pg.types.getTypeParser(oid, format)
  },
}

export interface PoolOptions {
  /** Connections kept by this process (default 10). */
  max?: number
  /** How long to wait for a connection, from the pool or the server, in ms (default 5000). */
  connectTimeoutMs?: number
  /** How long a statement waits for a lock (the store's write lock included) before failing, in ms (default 30000). */
  lockTimeoutMs?: number
}

export function openPool(url: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    options: `-c lock_timeout=${options.lockTimeoutMs ?? 30_000}`,
    types,
  })
  // An idle connection that the server closes (restart, failover) is dropped by the pool and
  // replaced on the next checkout; without a listener the 'error' event would end the process.
  pool.on('error', () => undefined)
  // Each connection also keeps a listener of its own for its whole life. The pool listens only
  // while a connection is idle, and whoever checks it out listens from a microtask later: a
  // server's last report (57P01 when the backend is terminated) read in the same chunk as the
  // answer that handed the connection over would find no listener. What it reports is not lost:
  // the connection's queries fail with it, and the pool drops it when it comes back.
  pool.on('connect', (client) => client.on('error', () => undefined))
  return pool
}

/** Where a PostgreSQL URL points, without its password: for error messages. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`
  } catch {
    return 'the configured database'
  }
}

// Codes of faults that a later attempt may not meet: the server is gone, restarting or out of
// connections, or a lock was held too long (see https://www.postgresql.org/docs/current/errcodes-appendix.html).
const RETRY_LATER_SQLSTATE = /^(08|53|57P0[1-3]|55P03|58)/
const RETRY_LATER_SOCKET = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE)$/

/** Whether a driver error means the database cannot serve now (rather than a bug or bad input). */
export function isConnectionFault(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && (RETRY_LATER_SQLSTATE.test(code) || RETRY_LATER_SOCKET.test(code))) return true
  // pg reports a lost connection and a connect timeout as plain errors.
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(err.message)
}

/** The driver's error as the store's: "store unavailable" when the database cannot serve now. */
export function storeError(err: unknown, url: string): unknown {
  if (err instanceof StoreUnavailableError || !isConnectionFault(err)) return err
  const reason = err instanceof Error ? err.message : String(err)
  return new StoreUnavailableError(`store unavailable: PostgreSQL at ${describeUrl(url)} cannot serve now (${reason})`, { cause: err })
}

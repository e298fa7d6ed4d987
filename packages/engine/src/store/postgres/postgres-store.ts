// The PostgreSQL store: the engine over PostgresStorage, for one or several collectors on one
// database. Ingest appends under the append lock; every other write takes the store's write lock,
// so what one collector bills, folds or deducts, another sees done. One collector at a time folds
// (a session advisory lock held on a connection of its own: if that process dies, its connection
// closes and another collector takes over at its next tick).
import type pg from 'pg'
import { Engine } from '../../engine.js'
import { foldDerivedAll } from '../../fold-pass.js'
import type { ApiKeyInput, ApiKeyRecord, IngestBatch, IngestOutcome, SecretPurpose, Store, Tenant } from '../port.js'
import type { PoolOptions } from './connection.js'
import { PgIdempotency } from './idempotency-rows.js'
import { PgKeyRows } from './key-rows.js'
import { LOCK_NAMESPACE } from './locks.js'
import { type PostgresHandle, openPostgres } from './open.js'
import type { PostgresStorage, PostgresStorageOptions } from './postgres-storage.js'
import { PgWebhookStore } from './webhook-store.js'

/** Held (session-level) by the one collector that folds; the others try again each tick. */
export const FOLD_LOCK = 4

export interface PostgresStoreOptions extends PoolOptions, PostgresStorageOptions {
  /**
   * Fold new events into rollups and the credit ledger in the background, every this many ms
   * (default 100); 0: never (commands that only read or write a few rows).
   */
  foldIntervalMs?: number
  /** Jitter source for webhook retry delays (tests). */
  random?: () => number
}

export class PostgresStore extends Engine<PostgresStorage> implements Store {
  readonly webhooks: PgWebhookStore
  readonly idempotency: PgIdempotency
  private readonly keys: PgKeyRows
  private readonly pool: pg.Pool
  private foldTimer: ReturnType<typeof setInterval> | undefined
  private folding: Promise<void> | undefined
  private folder: pg.PoolClient | undefined
  private closed = false

  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const store = new PostgresStore(await openPostgres(url, options), url, options)
    const interval = options.foldIntervalMs ?? 100
    if (interval > 0) {
      store.foldTimer = setInterval(() => void store.foldTick(), interval)
      store.foldTimer.unref?.()
    }
    return store
  }

  private constructor(private readonly handle: PostgresHandle, readonly url: string, options: PostgresStoreOptions) {
    super(handle.storage)
    this.pool = handle.pool
    this.keys = new PgKeyRows(handle.pool, url)
    this.idempotency = new PgIdempotency(handle.pool)
    this.webhooks = new PgWebhookStore(handle.pool, handle.storage, options.random)
  }

  /** One background pass: take the fold lock if no collector holds it, then fold until caught up. */
  private foldTick(): Promise<void> {
    this.folding ??= (async () => {
      try {
        if (this.folder === undefined) {
          const client = await this.pool.connect()
          const ignore = () => undefined
          client.on('error', ignore)
          let held: boolean
          try {
            held = (await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS held', [LOCK_NAMESPACE, FOLD_LOCK])).rows[0]!.held
          } catch (err) {
            client.release(true)
            throw err
          }
          if (!held) {
            // Back to the pool without this tick's listener: one per tick would pile up on it.
            client.off('error', ignore)
            client.release()
            return
          }
          this.folder = client
        }
        await this.foldCaughtUp()
      } catch (err) {
        // The lock's connection may be gone with the server: give it up and try again next tick.
        this.folder?.release(true)
        this.folder = undefined
        if (!this.closed) console.error(JSON.stringify({ level: 'warn', message: 'folding derived state failed; will retry', error: String(err) }))
      } finally {
        this.folding = undefined
      }
    })()
    return this.folding
  }

  private async foldCaughtUp(): Promise<void> {
    await foldDerivedAll(this.storage, this.credits)
  }

  /** Stores a batch in one transaction; resolves only after the commit (CONTRACT §7). */
  async ingest(batch: IngestBatch): Promise<IngestOutcome[]> {
    if (batch.events.length === 0) return []
    return this.storage.append(batch)
  }

  createTenant(name: string, nowMs: number): Promise<Tenant> {
    return this.keys.createTenant(name, nowMs)
  }

  getTenant(id: number): Promise<Tenant | undefined> {
    return this.keys.tenant(id)
  }

  defaultTenant(name: string, nowMs: number): Promise<Tenant> {
    return this.keys.defaultTenant(name, nowMs)
  }

  testTenant(liveTenantId: number, nowMs: number): Promise<Tenant> {
    return this.keys.testTenant(liveTenantId, nowMs)
  }

  putApiKey(key: ApiKeyInput, nowMs: number): Promise<ApiKeyRecord> {
    return this.keys.put(key, nowMs)
  }

  listApiKeys(tenantId: number): Promise<ApiKeyRecord[]> {
    return this.keys.list(tenantId)
  }

  touchApiKey(id: string, nowMs: number): Promise<void> {
    return this.keys.touch(id, nowMs)
  }

  findApiKeyByHash(hash: Buffer): Promise<ApiKeyRecord | undefined> {
    return this.keys.byHash(hash)
  }

  revokeApiKey(tenantId: number, id: string, nowMs: number): Promise<boolean> {
    return this.keys.revoke(tenantId, id, nowMs)
  }

  hasActiveKey(tenantId: number): Promise<boolean> {
    return this.keys.hasActive(tenantId)
  }

  getApiKey(tenantId: number, id: string): Promise<ApiKeyRecord | undefined> {
    return this.keys.byId(tenantId, id)
  }

  tenantSecret(tenantId: number, purpose: SecretPurpose, candidate: Buffer, nowMs: number): Promise<Buffer> {
    return this.keys.secret(tenantId, purpose, candidate, nowMs)
  }

  findTenantSecret(tenantId: number, purpose: SecretPurpose): Promise<Buffer | undefined> {
    return this.keys.findSecret(tenantId, purpose)
  }

  /** The figures of /metrics: deliveries waiting, events past each fold's watermark, the database's size. */
  gauges(): { webhookBacklog(): Promise<number>; foldLag(): Promise<Record<string, number>>; databaseBytes(): Promise<Record<string, number>> } {
    const one = async <R extends pg.QueryResultRow>(text: string) => (await this.pool.query<R>(text)).rows[0]!
    return {
      webhookBacklog: async () => (await one<{ n: number }>("SELECT count(*)::bigint AS n FROM webhook_deliveries WHERE status = 'pending'")).n,
      foldLag: async () => one<{ rollups: number; credits: number }>(
        `SELECT (SELECT coalesce(max(seq), 0) FROM events) - (SELECT seq FROM index_state WHERE name = 'rollups') AS rollups,
                (SELECT coalesce(max(seq), 0) FROM events) - (SELECT seq FROM index_state WHERE name = 'credits') AS credits`),
      databaseBytes: async () => ({ database: (await one<{ n: number }>('SELECT pg_database_size(current_database())::bigint AS n')).n }),
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1')
  }

  /** Stops folding (the next collector to hold the lock folds the rest), then closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.foldTimer !== undefined) clearInterval(this.foldTimer)
    await this.folding
    if (this.folder !== undefined) {
      await this.folder.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, FOLD_LOCK]).catch(() => undefined)
      this.folder.release()
      this.folder = undefined
    }
    await this.handle.close()
  }
}

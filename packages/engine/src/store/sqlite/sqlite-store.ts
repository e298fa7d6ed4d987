// The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a commit that
// returned survives a crash of the process or the machine. Each ingest batch is one transaction.
import type Database from 'better-sqlite3'
import { Engine } from '../../engine.js'
import { foldRollups } from '../../meters/fold.js'
import type { ApiKeyInput, ApiKeyRecord, IngestBatch, IngestOutcome, SecretPurpose, Store, Tenant } from '../port.js'
import { openDatabase } from './connection.js'
import { EventWriter, OUTCOMES, toRowBatch } from './event-writer.js'
import { GroupCommitter } from './group-commit.js'
import { WriterThread } from './writer-thread.js'
import { SqliteWebhookStore } from '../../webhooks/index.js'
import { SqliteStorage } from './sqlite-storage.js'
import { sqliteTx } from './sqlite-tx.js'
import { KeyRows } from './key-rows.js'
import { SqliteIdempotency } from './idempotency-rows.js'

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's lock before failing, in ms. */
  busyTimeoutMs?: number
  /**
   * Run ingest transactions on a worker thread, beside the HTTP work of the main thread.
   * `workerUrl` points at the built `writer-worker.js` (default: next to this module).
   */
  writerThread?: boolean | { workerUrl: URL }
}

export class SqliteStore extends Engine<SqliteStorage> implements Store {
  readonly db: Database.Database
  private readonly stmt
  private readonly committer: GroupCommitter | undefined
  private readonly writerThread: WriterThread | undefined
  readonly webhooks: SqliteWebhookStore
  readonly idempotency: SqliteIdempotency
  private readonly keys: KeyRows

  constructor(readonly path: string, options: SqliteStoreOptions = {}) {
    const db = openDatabase(path, { busyTimeoutMs: options.busyTimeoutMs })
    const webhooks = new SqliteWebhookStore(db)
    super(new SqliteStorage(db, sqliteTx(db, { outbox: webhooks.outbox })))
    this.db = db
    webhooks.runOn((fn) => this.storage.exclusive(fn))
    this.webhooks = webhooks
    if (options.writerThread) {
      const url = options.writerThread === true ? new URL('./writer-worker.js', import.meta.url) : options.writerThread.workerUrl
      this.writerThread = new WriterThread(path, url)
    } else {
      // Ingest shares this connection: the fold runs here, between commits.
      this.committer = new GroupCommitter(new EventWriter(db), { fold: (maxRows) => foldRollups(this.storage, maxRows) })
    }
    this.idempotency = new SqliteIdempotency(db)
    this.keys = new KeyRows(db)
    this.stmt = {
      insertTenant: db.prepare('INSERT INTO tenants (name, created_at) VALUES (?, ?) RETURNING id'),
      firstTenant: db.prepare('SELECT id, name, created_at FROM tenants ORDER BY id LIMIT 1'),
      revokeKey: db.prepare(
        'UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL',
      ),
      activeKey: db.prepare('SELECT 1 FROM api_keys WHERE tenant_id = ? AND revoked_at IS NULL LIMIT 1').pluck(),
      keyExists: db.prepare('SELECT 1 FROM api_keys WHERE tenant_id = ? AND id = ?').pluck(),
      insertSecret: db.prepare('INSERT INTO tenant_secrets (tenant_id, purpose, secret, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      getSecret: db.prepare('SELECT secret FROM tenant_secrets WHERE tenant_id = ? AND purpose = ?').pluck(),
    }
  }

  async ingest(batch: IngestBatch): Promise<IngestOutcome[]> {
    if (batch.events.length === 0) return []
    const rows = toRowBatch(batch)
    const codes = this.writerThread ? await this.writerThread.write(rows) : await this.committer!.submit(rows)
    return Array.from(codes, (code) => OUTCOMES[code]!)
  }

  async createTenant(name: string, nowMs: number): Promise<Tenant> {
    const id = await this.storage.exclusive(() => this.stmt.insertTenant.pluck().get(name, nowMs) as number)
    return { id, name, createdAtMs: nowMs }
  }

  async getTenant(id: number): Promise<Tenant | undefined> {
    return this.keys.tenant(id)
  }

  async testTenant(liveTenantId: number, nowMs: number): Promise<Tenant> {
    return this.storage.exclusive(() => this.keys.testTenant(liveTenantId, nowMs))
  }

  async defaultTenant(name: string, nowMs: number): Promise<Tenant> {
    const find = this.db.transaction(() => {
      const row = this.stmt.firstTenant.get() as { id: number; name: string; created_at: number } | undefined
      if (row) return { id: row.id, name: row.name, createdAtMs: row.created_at }
      const id = this.stmt.insertTenant.pluck().get(name, nowMs) as number
      return { id, name, createdAtMs: nowMs }
    })
    return this.storage.exclusive(() => find.immediate())
  }

  async putApiKey(key: ApiKeyInput, nowMs: number): Promise<ApiKeyRecord> {
    return this.storage.exclusive(() => this.keys.put(key, nowMs))
  }

  async findApiKeyByHash(hash: Buffer): Promise<ApiKeyRecord | undefined> {
    return this.keys.byHash(hash)
  }

  async listApiKeys(tenantId: number): Promise<ApiKeyRecord[]> {
    return this.keys.list(tenantId)
  }

  async touchApiKey(id: string, nowMs: number): Promise<void> {
    await this.storage.exclusive(() => this.keys.touch(id, nowMs))
  }

  async revokeApiKey(tenantId: number, id: string, nowMs: number): Promise<boolean> {
    if (this.stmt.keyExists.get(tenantId, id) === undefined) return false
    await this.storage.exclusive(() => this.stmt.revokeKey.run(nowMs, tenantId, id))
    return true
  }

  async hasActiveKey(tenantId: number): Promise<boolean> {
    return this.stmt.activeKey.get(tenantId) !== undefined
  }

  async getApiKey(tenantId: number, id: string): Promise<ApiKeyRecord | undefined> {
    return this.keys.byId(tenantId, id)
  }

  async tenantSecret(tenantId: number, purpose: SecretPurpose, candidate: Buffer, nowMs: number): Promise<Buffer> {
    return this.storage.exclusive(() => this.db.transaction(() => {
      this.stmt.insertSecret.run(tenantId, purpose, candidate, nowMs)
      return this.stmt.getSecret.get(tenantId, purpose) as Buffer
    }).immediate())
  }

  async findTenantSecret(tenantId: number, purpose: SecretPurpose): Promise<Buffer | undefined> {
    return (this.stmt.getSecret.get(tenantId, purpose) as Buffer | undefined) ?? undefined
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get()
  }

  async close(): Promise<void> {
    await this.committer?.close()
    await this.writerThread?.close()
    if (this.db.open) this.db.close()
  }
}

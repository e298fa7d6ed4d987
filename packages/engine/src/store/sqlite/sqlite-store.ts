// The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a commit that
// returned survives a crash of the process or the machine. Each ingest batch is one transaction.
import type Database from 'better-sqlite3'
import type { JsonValue, Properties, TenantConfig } from '@meterkit/protocol'
import { canonicalJson } from '../../json.js'
import type { UsageResult } from '../../meters/usage.js'
import type {
  ApiKeyInput,
  ApiKeyRecord,
  ConfigVersion,
  CorrectionResult,
  Customer,
  CustomerInput,
  EventStatus,
  EventVersion,
  EventWithVersions,
  UsageEvent,
  UsageEventsRequest,
  UsageRequest,
  EventQuery,
  EventSource,
  IngestBatch,
  IngestOutcome,
  Page,
  SecretPurpose,
  Store,
  StoredEvent,
  Tenant,
} from '../port.js'
import { openDatabase } from './connection.js'
import { decodeCursor, encodeCursor } from '../cursor.js'
import { EventWriter, OUTCOMES, toRowBatch } from './event-writer.js'
import { GroupCommitter } from './group-commit.js'
import { WriterThread } from './writer-thread.js'
import { DerivedState, EMPTY_CONFIG } from './derived.js'
import { readUsage, readUsageEvents } from '../../meters/usage-reading.js'
import { SqliteWebhookStore } from '../../webhooks/index.js'
import { BillingService } from '../../billing/billing-service.js'
import { CreditsService } from '../../credits/credits-service.js'
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

interface EventRow {
  id: string
  event: string
  customer_id: string
  ts: number
  properties: string
  reservation_id: string | null
  source: EventSource
  received_at: number
  status: EventStatus
}

interface VersionRow {
  version: number
  action: 'amend' | 'void'
  properties: string | null
  reason: string
  at: number
  key_id: string | null
}

interface CustomerRow {
  id: string
  name: string | null
  email: string | null
  timezone: string
  metadata: string | null
  created_at: number
}

function toCustomer(row: CustomerRow): Customer {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    timezone: row.timezone,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, JsonValue>),
    createdAtMs: row.created_at,
  }
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    event: row.event,
    customerId: row.customer_id,
    timestampMs: row.ts,
    properties: JSON.parse(row.properties) as Properties,
    reservationId: row.reservation_id ?? undefined,
    source: row.source,
    receivedAtMs: row.received_at,
    status: row.status,
  }
}

const EVENT_COLUMNS = 'id, event, customer_id, ts, coalesce(current, properties) AS properties, reservation_id, source, received_at, status'

export class SqliteStore implements Store {
  readonly db: Database.Database
  private readonly stmt
  private readonly derived: DerivedState
  private readonly committer: GroupCommitter | undefined
  private readonly writerThread: WriterThread | undefined
  readonly storage: SqliteStorage
  readonly billing: BillingService
  readonly credits: CreditsService
  readonly webhooks: SqliteWebhookStore
  readonly idempotency: SqliteIdempotency
  private readonly keys: KeyRows

  constructor(readonly path: string, options: SqliteStoreOptions = {}) {
    this.db = openDatabase(path, { busyTimeoutMs: options.busyTimeoutMs })
    if (options.writerThread) {
      const url = options.writerThread === true ? new URL('./writer-worker.js', import.meta.url) : options.writerThread.workerUrl
      this.writerThread = new WriterThread(path, url)
    } else {
      this.committer = new GroupCommitter(new EventWriter(this.db))
    }

    const db = this.db
    this.derived = new DerivedState(db)
    const config = (tenantId: number) => this.derived.tenant(tenantId)
    this.webhooks = new SqliteWebhookStore(db)
    this.idempotency = new SqliteIdempotency(db)
    this.keys = new KeyRows(db)
    const outbox = this.webhooks.outbox
    this.storage = new SqliteStorage(db, sqliteTx(db, { derived: this.derived, config, outbox }))
    this.credits = new CreditsService(this.storage)
    this.billing = new BillingService({ storage: this.storage, credits: this.credits })
    this.stmt = {
      eventCore: db.prepare('SELECT seq, event, customer_id, ts, status, properties FROM events WHERE tenant_id = ? AND id = ?'),
      versions: db.prepare('SELECT version, action, properties, reason, at, key_id FROM event_versions WHERE tenant_id = ? AND id = ? ORDER BY version'),
      nextVersion: db.prepare('SELECT coalesce(max(version), 1) + 1 FROM event_versions WHERE tenant_id = ? AND id = ?').pluck(),
      addVersion: db.prepare('INSERT INTO event_versions (tenant_id, id, version, action, properties, reason, at, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      setVoided: db.prepare("UPDATE events SET status = 'voided' WHERE tenant_id = ? AND id = ?"),
      setAmended: db.prepare("UPDATE events SET status = 'amended', current = ? WHERE tenant_id = ? AND id = ?"),
      currentConfig: db.prepare('SELECT version, config, applied_at FROM config_versions WHERE tenant_id = ? ORDER BY version DESC LIMIT 1'),
      insertConfig: db.prepare('INSERT INTO config_versions (tenant_id, version, config, applied_at, key_id) VALUES (?, ?, ?, ?, ?)'),
      getCustomer: db.prepare('SELECT id, name, email, timezone, metadata, created_at FROM customers WHERE tenant_id = ? AND id = ?'),
      insertCustomer: db.prepare(
        'INSERT INTO customers (tenant_id, id, name, email, timezone, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      updateCustomer: db.prepare(
        `UPDATE customers SET name = coalesce(?, name), email = coalesce(?, email), timezone = coalesce(?, timezone),
         metadata = coalesce(?, metadata) WHERE tenant_id = ? AND id = ?`,
      ),
      getEvent: db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE tenant_id = ? AND id = ?`),
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

  async getEvent(tenantId: number, id: string): Promise<EventWithVersions | undefined> {
    return this.db.transaction(() => this.eventWithVersions(tenantId, id))()
  }

  private eventWithVersions(tenantId: number, id: string): EventWithVersions | undefined {
    const row = this.stmt.getEvent.get(tenantId, id) as EventRow | undefined
    if (row === undefined) return undefined
    const event = toStoredEvent(row)
    const original = (this.stmt.eventCore.get(tenantId, id) as { properties: string }).properties
    const versions: EventVersion[] = [
      { version: 1, action: 'receive', properties: JSON.parse(original) as Properties, reason: null, atMs: event.receivedAtMs, keyId: null },
      ...(this.stmt.versions.all(tenantId, id) as VersionRow[]).map((v) => ({
        version: v.version,
        action: v.action,
        properties: v.properties === null ? null : (JSON.parse(v.properties) as Properties),
        reason: v.reason,
        atMs: v.at,
        keyId: v.key_id,
      })),
    ]
    return { ...event, versions }
  }

  private correct(tenantId: number, id: string, nowMs: number, apply: (core: { seq: number; event: string; customer_id: string; ts: number }) => void): Promise<CorrectionResult> {
    return this.storage.transaction('write', async (tx): Promise<CorrectionResult> => {
      const core = this.stmt.eventCore.get(tenantId, id) as { seq: number; event: string; customer_id: string; ts: number; status: EventStatus } | undefined
      if (core === undefined) return { ok: false, code: 'not_found' }
      if (core.status === 'voided') return { ok: false, code: 'voided' }
      apply(core)
      await this.billing.noteCorrection(tx, tenantId, core.customer_id, core.ts, core.seq)
      await this.billing.correctCredits(tx, tenantId, { id, customerId: core.customer_id, ts: core.ts, seq: core.seq }, nowMs)
      // A fold prepared before this correction must not write what it read.
      this.derived.bumpGeneration()
      // Figures already folded are recomputed from the raw events; newer ones fold as usual.
      if (core.seq <= this.derived.watermark()) {
        const meters = this.derived.tenant(tenantId).byEvent.get(core.event) ?? []
        if (meters.length > 0) this.derived.recomputeBucket(tenantId, core.customer_id, core.ts, new Set(meters.map((m) => m.key)))
      }
      return { ok: true, event: this.eventWithVersions(tenantId, id)! }
    })
  }

  async voidEvent(tenantId: number, id: string, reason: string, keyId: string | null, nowMs: number): Promise<CorrectionResult> {
    return this.correct(tenantId, id, nowMs, () => {
      this.stmt.addVersion.run(tenantId, id, this.stmt.nextVersion.get(tenantId, id), 'void', null, reason, nowMs, keyId)
      this.stmt.setVoided.run(tenantId, id)
    })
  }

  async amendEvent(tenantId: number, id: string, properties: Properties, reason: string, keyId: string | null, nowMs: number): Promise<CorrectionResult> {
    const json = JSON.stringify(properties)
    return this.correct(tenantId, id, nowMs, () => {
      this.stmt.addVersion.run(tenantId, id, this.stmt.nextVersion.get(tenantId, id), 'amend', json, reason, nowMs, keyId)
      this.stmt.setAmended.run(json, tenantId, id)
    })
  }

  /** Folds every event past the watermark into the derived state now (tests, verify, shutdown). */
  foldAll(): number {
    let total = 0
    for (let n = this.derived.fold(100_000); n > 0; n = this.derived.fold(100_000)) total += n
    return total
  }

  /** Rebuilds the derived state from raw events in memory and reports any difference. */
  verify(): { events: number; unfolded: number; rollups: number; differences: string[] } {
    return this.db.transaction(() => this.derived.verify())()
  }

  async getConfig(tenantId: number): Promise<ConfigVersion> {
    return this.configOf(tenantId)
  }

  private configOf(tenantId: number): ConfigVersion {
    const row = this.stmt.currentConfig.get(tenantId) as { version: number; config: string; applied_at: number } | undefined
    return row === undefined
      ? { version: 0, config: EMPTY_CONFIG, appliedAtMs: 0 }
      : { version: row.version, config: JSON.parse(row.config) as TenantConfig, appliedAtMs: row.applied_at }
  }

  async applyConfig(tenantId: number, given: TenantConfig, keyId: string | null, nowMs: number): Promise<ConfigVersion & { changed: boolean }> {
    // The lists the schema defaults, filled in for callers that built the object themselves:
    // every reader of a stored configuration may count on them.
    const config: TenantConfig = { ...given, meters: given.meters ?? [], features: given.features ?? [], plans: given.plans ?? [] }
    return this.db.transaction(() => {
      const row = this.stmt.currentConfig.get(tenantId) as { version: number; config: string; applied_at: number } | undefined
      const previous = row === undefined ? EMPTY_CONFIG : (JSON.parse(row.config) as TenantConfig)
      const json = JSON.stringify(config)
      if (row !== undefined && canonicalJson(JSON.parse(row.config) as JsonValue) === canonicalJson(JSON.parse(json) as JsonValue)) {
        return { version: row.version, config: previous, appliedAtMs: row.applied_at, changed: false }
      }
      const version = (row?.version ?? 0) + 1
      this.stmt.insertConfig.run(tenantId, version, json, nowMs, keyId)
      this.derived.applyConfig(tenantId, previous, config)
      return { version, config, appliedAtMs: nowMs, changed: true }
    }).immediate()
  }

  async putCustomer(tenantId: number, input: CustomerInput, nowMs: number): Promise<{ customer: Customer; created: boolean }> {
    return this.db.transaction(() => {
      const metadata = input.metadata === undefined || input.metadata === null ? null : JSON.stringify(input.metadata)
      const { changes } = this.stmt.insertCustomer.run(tenantId, input.id, input.name ?? null, input.email ?? null, input.timezone ?? 'UTC', metadata, nowMs)
      if (changes === 0) this.stmt.updateCustomer.run(input.name ?? null, input.email ?? null, input.timezone ?? null, metadata, tenantId, input.id)
      // A timezone moves the customer's billing periods: timelines cached elsewhere are stale.
      if (changes === 0 && input.timezone !== undefined) this.db.prepare("UPDATE index_state SET seq = seq + 1 WHERE name = 'subscriptions'").run()
      return { customer: toCustomer(this.stmt.getCustomer.get(tenantId, input.id) as CustomerRow), created: changes === 1 }
    }).immediate()
  }

  async getCustomer(tenantId: number, id: string): Promise<Customer | undefined> {
    const row = this.stmt.getCustomer.get(tenantId, id) as CustomerRow | undefined
    return row && toCustomer(row)
  }

  async usage(tenantId: number, request: UsageRequest): Promise<UsageResult | { error: string }> {
    return this.storage.transaction('read', (tx) => readUsage(tx, tenantId, request))
  }

  async usageEvents(tenantId: number, request: UsageEventsRequest): Promise<Page<UsageEvent> | { error: string }> {
    return this.storage.transaction('read', (tx) => readUsageEvents(tx, tenantId, request))
  }

  async listEvents(tenantId: number, query: EventQuery): Promise<Page<StoredEvent>> {
    const where: string[] = []
    const params: (string | number)[] = []
    if (query.event !== undefined) {
      where.push('event = ?')
      params.push(query.event)
    }
    if (query.fromMs !== undefined) {
      where.push('ts >= ?')
      params.push(query.fromMs)
    }
    if (query.toMs !== undefined) {
      where.push('ts < ?')
      params.push(query.toMs)
    }
    if (query.cursor !== undefined) {
      const key = decodeCursor(query.cursor)
      if (key === undefined || typeof key[0] !== 'number' || typeof key[1] !== 'string') {
        throw new RangeError('cursor: not a cursor this list returned')
      }
      where.push('(ts < ? OR (ts = ? AND id < ?))')
      params.push(key[0], key[0], key[1])
    }
    const filter = where.length ? ` AND ${where.join(' AND ')}` : ''
    let sql: string
    let args: (string | number)[]
    if (query.customerId === undefined) {
      sql = `SELECT ${EVENT_COLUMNS} FROM events WHERE tenant_id = ?${filter} ORDER BY ts DESC, id DESC LIMIT ?`
      args = [tenantId, ...params, query.limit + 1]
    } else {
      // The customer index, plus the newest events not yet in it (see migrations).
      const indexed = `SELECT ${EVENT_COLUMNS} FROM events WHERE seq IN (
          SELECT seq FROM customer_events WHERE tenant_id = ? AND customer_id = ?
          ${query.fromMs !== undefined ? 'AND ts >= ?' : ''} ${query.toMs !== undefined ? 'AND ts < ?' : ''})${filter}`
      const tail = `SELECT ${EVENT_COLUMNS} FROM events
          WHERE seq > (SELECT seq FROM index_state WHERE name = 'customer_events')
          AND +tenant_id = ? AND +customer_id = ?${filter.replaceAll(/\b(ts|event)\b/g, '+$1')}`
      sql = `SELECT * FROM (${indexed} UNION ALL ${tail}) ORDER BY ts DESC, id DESC LIMIT ?`
      const range = [...(query.fromMs !== undefined ? [query.fromMs] : []), ...(query.toMs !== undefined ? [query.toMs] : [])]
      args = [tenantId, query.customerId, ...range, ...params, tenantId, query.customerId, ...params, query.limit + 1]
    }
    const rows = this.db.prepare(sql).all(...args) as EventRow[]
    const more = rows.length > query.limit
    const data = (more ? rows.slice(0, query.limit) : rows).map(toStoredEvent)
    const last = data[data.length - 1]
    return { data, nextCursor: more && last ? encodeCursor([last.timestampMs, last.id]) : null }
  }

  async createTenant(name: string, nowMs: number): Promise<Tenant> {
    const id = this.stmt.insertTenant.pluck().get(name, nowMs) as number
    return { id, name, createdAtMs: nowMs }
  }

  async getTenant(id: number): Promise<Tenant | undefined> {
    return this.keys.tenant(id)
  }

  async testTenant(liveTenantId: number, nowMs: number): Promise<Tenant> {
    return this.keys.testTenant(liveTenantId, nowMs)
  }

  async defaultTenant(name: string, nowMs: number): Promise<Tenant> {
    const find = this.db.transaction(() => {
      const row = this.stmt.firstTenant.get() as { id: number; name: string; created_at: number } | undefined
      if (row) return { id: row.id, name: row.name, createdAtMs: row.created_at }
      const id = this.stmt.insertTenant.pluck().get(name, nowMs) as number
      return { id, name, createdAtMs: nowMs }
    })
    return find.immediate()
  }

  async putApiKey(key: ApiKeyInput, nowMs: number): Promise<ApiKeyRecord> {
    return this.keys.put(key, nowMs)
  }

  async findApiKeyByHash(hash: Buffer): Promise<ApiKeyRecord | undefined> {
    return this.keys.byHash(hash)
  }

  async listApiKeys(tenantId: number): Promise<ApiKeyRecord[]> {
    return this.keys.list(tenantId)
  }

  async touchApiKey(id: string, nowMs: number): Promise<void> {
    this.keys.touch(id, nowMs)
  }

  async revokeApiKey(tenantId: number, id: string, nowMs: number): Promise<boolean> {
    if (this.stmt.keyExists.get(tenantId, id) === undefined) return false
    this.stmt.revokeKey.run(nowMs, tenantId, id)
    return true
  }

  async hasActiveKey(tenantId: number): Promise<boolean> {
    return this.stmt.activeKey.get(tenantId) !== undefined
  }

  async getApiKey(tenantId: number, id: string): Promise<ApiKeyRecord | undefined> {
    return this.keys.byId(tenantId, id)
  }

  async tenantSecret(tenantId: number, purpose: SecretPurpose, candidate: Buffer, nowMs: number): Promise<Buffer> {
    return this.db.transaction(() => {
      this.stmt.insertSecret.run(tenantId, purpose, candidate, nowMs)
      return this.stmt.getSecret.get(tenantId, purpose) as Buffer
    }).immediate()
  }

  async findTenantSecret(tenantId: number, purpose: SecretPurpose): Promise<Buffer | undefined> {
    return (this.stmt.getSecret.get(tenantId, purpose) as Buffer | undefined) ?? undefined
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get()
  }

  async close(): Promise<void> {
    this.committer?.close()
    await this.writerThread?.close()
    if (this.db.open) this.db.close()
  }
}

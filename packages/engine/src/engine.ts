// The engine's use-cases over one storage: events and their corrections, configuration,
// customers, usage, the rollup fold and its audit, billing and credits. Written once; a store
// (SQLite, PostgreSQL) supplies the storage, ingest's write path and the tenant and key records.
import type { JsonValue, Properties, TenantConfig } from '@meterkit/protocol'
import { BillingService } from './billing/billing-service.js'
import { CreditsService } from './credits/credits-service.js'
import { canonicalJson } from './json.js'
import { ROLLUP_FOLD_PASS, type RollupAudit, foldRollups, followConfig, recomputeBucket, verifyRollups } from './meters/fold.js'
import type { EventHistory, EventRecord } from './meters/storage.js'
import type { UsageResult } from './meters/usage.js'
import { tenantMeters } from './meters/compiled.js'
import { readUsage, readUsageEvents } from './meters/usage-reading.js'
import { decodeCursor, encodeCursor } from './store/cursor.js'
import type {
  ConfigVersion,
  CorrectionResult,
  Customer,
  CustomerInput,
  EventQuery,
  EventStatus,
  EventWithVersions,
  Page,
  StoredEvent,
  UsageEvent,
  UsageEventsRequest,
  UsageRequest,
} from './store/port.js'
import type { Storage, Tx } from './store/storage.js'

function toStoredEvent(r: EventRecord): StoredEvent {
  return {
    id: r.id,
    event: r.event,
    customerId: r.customerId,
    timestampMs: r.timestampMs,
    properties: JSON.parse(r.properties) as Properties,
    reservationId: r.reservationId ?? undefined,
    source: r.source,
    receivedAtMs: r.receivedAtMs,
    status: r.status as EventStatus,
  }
}

function withVersions(h: EventHistory): EventWithVersions {
  const event = toStoredEvent(h.record)
  return {
    ...event,
    versions: [
      { version: 1, action: 'receive', properties: JSON.parse(h.original) as Properties, reason: null, atMs: event.receivedAtMs, keyId: null },
      ...h.corrections,
    ],
  }
}

export abstract class Engine<S extends Storage = Storage> {
  readonly billing: BillingService
  readonly credits: CreditsService

  constructor(readonly storage: S) {
    this.credits = new CreditsService(storage)
    this.billing = new BillingService({ storage, credits: this.credits })
  }

  async getEvent(tenantId: number, id: string): Promise<EventWithVersions | undefined> {
    return this.storage.transaction('read', async (tx) => {
      const h = await tx.events.find(tenantId, id)
      return h && withVersions(h)
    })
  }

  async listEvents(tenantId: number, query: EventQuery): Promise<Page<StoredEvent>> {
    let before: [number, string] | undefined
    if (query.cursor !== undefined) {
      const key = decodeCursor(query.cursor)
      if (key === undefined || typeof key[0] !== 'number' || typeof key[1] !== 'string') throw new RangeError('cursor: not a cursor this list returned')
      before = [key[0], key[1]]
    }
    const rows = await this.storage.transaction('read', async (tx) => tx.events.list(tenantId, { ...query, before, limit: query.limit + 1 }))
    const more = rows.length > query.limit
    const data = (more ? rows.slice(0, query.limit) : rows).map(toStoredEvent)
    const last = data[data.length - 1]
    return { data, nextCursor: more && last ? encodeCursor([last.timestampMs, last.id]) : null }
  }

  async voidEvent(tenantId: number, id: string, reason: string, keyId: string | null, nowMs: number): Promise<CorrectionResult> {
    return this.correct(tenantId, id, nowMs, { action: 'void', properties: null, reason, atMs: nowMs, keyId })
  }

  async amendEvent(tenantId: number, id: string, properties: Properties, reason: string, keyId: string | null, nowMs: number): Promise<CorrectionResult> {
    return this.correct(tenantId, id, nowMs, { action: 'amend', properties: JSON.stringify(properties), reason, atMs: nowMs, keyId })
  }

  private correct(tenantId: number, id: string, nowMs: number, change: Parameters<Tx['events']['correct']>[2]): Promise<CorrectionResult> {
    return this.storage.transaction('write', async (tx): Promise<CorrectionResult> => {
      const found = await tx.events.find(tenantId, id)
      if (found === undefined) return { ok: false, code: 'not_found' }
      const e = found.record
      if (e.status === 'voided') return { ok: false, code: 'voided' }
      await tx.events.correct(tenantId, id, change)
      await this.billing.noteCorrection(tx, tenantId, e.customerId, e.timestampMs, e.seq)
      await this.billing.correctCredits(tx, tenantId, { id, customerId: e.customerId, ts: e.timestampMs, seq: e.seq }, nowMs)
      // A fold prepared before this correction must not write what it read.
      await tx.rollups.bumpGeneration()
      // Figures already folded are recomputed from the raw events; newer ones fold as usual.
      if (e.seq <= await tx.events.foldedSeq()) {
        const meters = tenantMeters(await tx.configs.current(tenantId)).byEvent.get(e.event) ?? []
        if (meters.length > 0) await recomputeBucket(tx, tenantId, e.customerId, e.timestampMs, new Set(meters.map((m) => m.key)))
      }
      return { ok: true, event: withVersions((await tx.events.find(tenantId, id))!) }
    })
  }

  async getConfig(tenantId: number): Promise<ConfigVersion> {
    const { version, config, appliedAtMs } = await this.storage.transaction('read', async (tx) => tx.configs.current(tenantId))
    return { version, config, appliedAtMs }
  }

  /** Stores a new version when it differs from the current one; rollups follow the new meters. */
  async applyConfig(tenantId: number, given: TenantConfig, keyId: string | null, nowMs: number): Promise<ConfigVersion & { changed: boolean }> {
    // The lists the schema defaults, filled in for callers that built the object themselves:
    // every reader of a stored configuration may count on them.
    const config: TenantConfig = { ...given, meters: given.meters ?? [], features: given.features ?? [], plans: given.plans ?? [] }
    return this.storage.transaction('write', async (tx) => {
      const current = await tx.configs.current(tenantId)
      const canonical = (c: TenantConfig) => canonicalJson(JSON.parse(JSON.stringify(c)) as JsonValue)
      if (current.version > 0 && canonical(current.config) === canonical(config)) {
        return { version: current.version, config: current.config, appliedAtMs: current.appliedAtMs, changed: false }
      }
      const version = current.version + 1
      await tx.configs.insert(tenantId, version, config, keyId, nowMs)
      await followConfig(tx, tenantId, current.config, { version, config })
      return { version, config, appliedAtMs: nowMs, changed: true }
    })
  }

  /** Creates the customer, or updates the fields given (customers also appear with their first event). */
  async putCustomer(tenantId: number, input: CustomerInput, nowMs: number): Promise<{ customer: Customer; created: boolean }> {
    return this.storage.transaction('write', async (tx) => {
      const created = await tx.customers.put({ ...input, tenantId }, nowMs)
      // A time zone moves the customer's billing periods: timelines cached elsewhere are stale.
      if (!created && input.timezone !== undefined) await tx.subscriptions.bumpGeneration()
      return { customer: (await tx.customers.get(tenantId, input.id))!, created }
    })
  }

  async getCustomer(tenantId: number, id: string): Promise<Customer | undefined> {
    return this.storage.transaction('read', async (tx) => tx.customers.get(tenantId, id))
  }

  /** Metered usage from rollups (and the few events not folded into them yet). */
  async usage(tenantId: number, request: UsageRequest): Promise<UsageResult | { error: string }> {
    return this.storage.transaction('read', (tx) => readUsage(tx, tenantId, request))
  }

  /** The exact events behind a usage figure, oldest first, paged. */
  async usageEvents(tenantId: number, request: UsageEventsRequest): Promise<Page<UsageEvent> | { error: string }> {
    return this.storage.transaction('read', (tx) => readUsageEvents(tx, tenantId, request))
  }

  /** Folds every event past the rollups' watermark now (tests, verify, shutdown); answers how many. */
  async foldAll(): Promise<number> {
    let total = 0
    for (let n = await foldRollups(this.storage, ROLLUP_FOLD_PASS); n > 0; n = await foldRollups(this.storage, ROLLUP_FOLD_PASS)) total += n
    return total
  }

  /** Rebuilds the rollups from raw events in memory and reports any difference. */
  async verify(): Promise<RollupAudit> {
    return this.storage.transaction('read', (tx) => verifyRollups(tx))
  }
}

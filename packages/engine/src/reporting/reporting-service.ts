// Reports of a tenant's business, written once over the storage port: revenue, usage revenue,
// credit flows and active customers by month, the ingest rate, the customer list and the
// configuration's versions. Figures come from invoices, the ledger, subscriptions and indexes,
// never from reading raw events.
import { decodeCursor, encodeCursor } from '../store/cursor.js'
import type { Page } from '../store/port.js'
import type { Storage, Tx } from '../store/storage.js'
import { phaseAt } from '../billing/timeline.js'
import type { Phase } from '../billing/timeline.js'
import { type MonthCredits, creditsByMonth } from './credit-flows.js'
import { type ReportPeriod, monthsIn } from './months.js'
import { type MonthRevenue, revenueByMonth } from './revenue.js'
import type { ReportCustomerRecord, ReportLineRecord } from './storage.js'
import type { TenantConfig } from '@meterkit/protocol'
import { type ChargeResolver, type UsageRevenueDimension, type UsageRevenueRow, usageRevenue } from './usage-revenue.js'

export interface ReportRange {
  fromMs: number
  toMs: number
}

/** Report ranges span at most this many months. */
export const MAX_REPORT_MONTHS = 120
/** Ingest-rate series hold at most this many buckets. */
export const MAX_INGEST_BUCKETS = 1440

export const INGEST_BUCKETS = { minute: 60_000, hour: 3_600_000 } as const
export type IngestBucket = keyof typeof INGEST_BUCKETS

export interface MonthActiveCustomers extends ReportPeriod {
  /** Customers with a subscription in effect at some time in the period. */
  customers: number
}

export interface IngestPoint {
  startMs: number
  endMs: number
  events: number
}

export class ReportingService {
  constructor(private readonly storage: Storage) {}

  /** Rejects a range that is empty or longer than the reports allow (a RangeError names the field). */
  periods(range: ReportRange): ReportPeriod[] {
    if (!(range.fromMs < range.toMs)) throw new RangeError('from: must be before to')
    const periods = monthsIn(range.fromMs, range.toMs)
    if (periods.length > MAX_REPORT_MONTHS) throw new RangeError(`to: a report covers at most ${MAX_REPORT_MONTHS} months`)
    return periods
  }

  async revenue(tenantId: number, range: ReportRange): Promise<MonthRevenue[]> {
    const periods = this.periods(range)
    return this.storage.transaction('read', async (tx) => revenueByMonth(periods, await tx.reporting.invoicesIssued(tenantId, range.fromMs, range.toMs)))
  }

  async usageRevenue(tenantId: number, range: ReportRange, groupBy: readonly UsageRevenueDimension[]): Promise<UsageRevenueRow[]> {
    const periods = this.periods(range)
    return this.storage.transaction('read', async (tx) => {
      const lines = await tx.reporting.linesIssued(tenantId, range.fromMs, range.toMs)
      return usageRevenue(periods, lines, await chargeResolver(tx, tenantId, lines), groupBy)
    })
  }

  async credits(tenantId: number, range: ReportRange): Promise<MonthCredits[]> {
    const periods = this.periods(range)
    return this.storage.transaction('read', async (tx) => creditsByMonth(periods, await tx.reporting.ledgerEntries(tenantId, range.fromMs, range.toMs)))
  }

  async activeCustomers(tenantId: number, range: ReportRange): Promise<MonthActiveCustomers[]> {
    const periods = this.periods(range)
    return this.storage.transaction('read', async (tx) => {
      const out: MonthActiveCustomers[] = []
      for (const p of periods) out.push({ ...p, customers: (await tx.subscriptions.customersInEffect(tenantId, p.startMs, p.endMs)).length })
      return out
    })
  }

  /** Events per bucket by event time over [fromMs, toMs), every bucket listed; buckets align to the epoch. */
  async ingest(tenantId: number, range: ReportRange, bucket: IngestBucket): Promise<IngestPoint[]> {
    const size = INGEST_BUCKETS[bucket]
    if (!(range.fromMs < range.toMs)) throw new RangeError('from: must be before to')
    const first = Math.floor(range.fromMs / size) * size
    if ((range.toMs - first) / size > MAX_INGEST_BUCKETS) throw new RangeError(`to: an ingest series holds at most ${MAX_INGEST_BUCKETS} buckets of a ${bucket}`)
    const counts = await this.storage.transaction('read', async (tx) => tx.reporting.eventCounts(tenantId, first, range.toMs, size))
    const byStart = new Map(counts.map((c) => [c.bucketMs, c.count]))
    const out: IngestPoint[] = []
    for (let s = first; s < range.toMs; s += size) out.push({ startMs: s, endMs: s + size, events: byStart.get(s) ?? 0 })
    return out
  }

  /** Customers by id, `search` matching id, name or email; a bad cursor is a RangeError. */
  async customers(tenantId: number, query: { search?: string; cursor?: string; limit: number }): Promise<Page<ReportCustomerRecord>> {
    let afterId: string | undefined
    if (query.cursor !== undefined) {
      const key = decodeCursor(query.cursor)
      if (key === undefined || typeof key[0] !== 'string') throw new RangeError('cursor: is not a cursor of this list')
      afterId = key[0]
    }
    const rows = await this.storage.transaction('read', async (tx) =>
      tx.reporting.customers(tenantId, { search: query.search, afterId, limit: query.limit + 1 }))
    const data = rows.slice(0, query.limit)
    return { data, nextCursor: rows.length > query.limit ? encodeCursor([data[data.length - 1]!.id]) : null }
  }

  /** Every configuration version kept, newest first, paged; a bad cursor is a RangeError. */
  async configVersions(tenantId: number, query: { cursor?: string; limit: number }): Promise<Page<ConfigVersionView>> {
    let beforeVersion: number | undefined
    if (query.cursor !== undefined) {
      const key = decodeCursor(query.cursor)
      if (key === undefined || typeof key[0] !== 'number') throw new RangeError('cursor: is not a cursor of this list')
      beforeVersion = key[0]
    }
    const rows = await this.storage.transaction('read', async (tx) => tx.reporting.configVersions(tenantId, { beforeVersion, limit: query.limit + 1 }))
    const data = rows.slice(0, query.limit).map((r) => ({ version: r.version, config: JSON.parse(r.config) as TenantConfig, appliedAtMs: r.appliedAtMs, keyId: r.keyId }))
    return { data, nextCursor: rows.length > query.limit ? encodeCursor([data[data.length - 1]!.version]) : null }
  }
}

export interface ConfigVersionView {
  version: number
  config: TenantConfig
  appliedAtMs: number
  keyId: string | null
}

/** Resolves lines to the plan and meter of their charge, reading each subscription's phases once. */
async function chargeResolver(tx: Tx, tenantId: number, lines: readonly ReportLineRecord[]): Promise<ChargeResolver> {
  const phases = new Map<string, Phase[]>()
  for (const id of new Set(lines.map((l) => l.subscriptionId))) phases.set(id, await tx.subscriptions.phases(tenantId, id))
  return (line) => {
    const list = phases.get(line.subscriptionId) ?? []
    if (list.length === 0) return { plan: '', meter: null }
    const { plan } = phaseAt({ timeZone: 'UTC', startMs: list[0]!.startMs, endMs: null, phases: list }, line.periodStartMs)
    const charge = plan.charges.find((c) => c.key === line.chargeKey)
    return { plan: plan.key, meter: charge !== undefined && 'meter' in charge ? charge.meter : null }
  }
}

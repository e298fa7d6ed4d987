// The rollup fold: meter rollups built from raw events up to a watermark, written once over the
// storage port. New events fold in large passes; corrections recompute the buckets they touch; a
// configuration change rebuilds the meters it changed. Raw events stay the source of truth:
// every figure here can be rebuilt from them (`verifyRollups` does).
import type { JsonValue, MeterConfig, TenantConfig } from '@meterkit/protocol'
import { DecimalSum, decimal } from '../decimal.js'
import { canonicalJson } from '../json.js'
import type { Storage, Tx } from '../store/storage.js'
import { type Partial, addContribution, emptyPartial, mergePartial, numericText, sumText } from './aggregate.js'
import { BUCKET_MS, bucketOf } from './buckets.js'
import { type TenantMeters, tenantMeters } from './compiled.js'
import { contribution } from './meter.js'
import type { EventRecord, RollupKey, RollupRecord } from './storage.js'

/** Events per fold pass: large enough that each rollup row is written once for many events. */
export const ROLLUP_FOLD_PASS = 50_000

interface Accumulated extends RollupKey {
  partial: Partial
  uniques: Set<string>
}

type Accumulation = Map<string, Accumulated>

/** A rollup pass added up, not yet written. */
export interface PreparedRollups {
  from: number
  to: number
  generation: number
  acc: Accumulation
}

export function rollupToPartial(row: RollupRecord): Partial {
  return {
    count: row.count,
    sum: row.sum === null ? undefined : DecimalSum.of(row.sum),
    min: row.min === null ? undefined : decimal(row.min),
    max: row.max === null ? undefined : decimal(row.max),
    latestTs: row.latestTs ?? undefined,
    latestId: row.latestId ?? undefined,
    latestValue: row.latestValue === null ? undefined : decimal(row.latestValue),
  }
}

function partialToRollup(bucket: number, groupKey: string, p: Partial): RollupRecord {
  return {
    bucket,
    groupKey,
    count: p.count,
    sum: sumText(p.sum),
    min: numericText(p.min),
    max: numericText(p.max),
    latestTs: p.latestTs ?? null,
    latestId: p.latestId ?? null,
    latestValue: numericText(p.latestValue),
  }
}

/** The compiled meters of each tenant met in one transaction, read once. */
class MetersOf {
  private readonly byTenant = new Map<number, TenantMeters>()

  constructor(private readonly tx: Tx) {}

  async get(tenantId: number): Promise<TenantMeters> {
    let m = this.byTenant.get(tenantId)
    if (m === undefined) {
      m = tenantMeters(await this.tx.configs.current(tenantId))
      this.byTenant.set(tenantId, m)
    }
    return m
  }
}

function accumulate(acc: Accumulation, meters: TenantMeters, row: EventRecord, only: ReadonlySet<string> | undefined): void {
  if (row.status === 'voided') return
  const of = meters.byEvent.get(row.event)
  if (of === undefined) return
  let properties: JsonValue | undefined
  const bucket = bucketOf(row.timestampMs)
  const base = `${row.tenantId}\u0001${row.customerId}\u0001${bucket}\u0001`
  for (const meter of of) {
    if (only !== undefined && !only.has(meter.key)) continue
    properties ??= JSON.parse(row.properties) as JsonValue
    const c = contribution(meter, row.event, row.source, properties)
    if (c === undefined) continue
    const k = `${base}${meter.key}\u0001${c.groupKey}`
    let a = acc.get(k)
    if (a === undefined) {
      a = { tenantId: row.tenantId, meter: meter.key, customerId: row.customerId, bucket, groupKey: c.groupKey, partial: emptyPartial(), uniques: new Set() }
      acc.set(k, a)
    }
    addContribution(a.partial, c, row.timestampMs, row.id, meter.aggregation)
    if (c.unique !== undefined) a.uniques.add(c.unique)
  }
}

async function write(tx: Tx, acc: Accumulation): Promise<void> {
  // In key order: neighbouring rows share pages, so an index is written in runs.
  const entries = [...acc.values()].sort((x, y) => x.tenantId - y.tenantId
    || (x.meter < y.meter ? -1 : x.meter > y.meter ? 1 : 0)
    || (x.customerId < y.customerId ? -1 : x.customerId > y.customerId ? 1 : 0)
    || x.bucket - y.bucket
    || (x.groupKey < y.groupKey ? -1 : x.groupKey > y.groupKey ? 1 : 0))
  for (const a of entries) {
    // New keys (the common case for sparse data) take one statement; existing ones merge.
    if (!(await tx.rollups.insert(a, partialToRollup(a.bucket, a.groupKey, a.partial)))) {
      const merged = rollupToPartial((await tx.rollups.get(a))!)
      mergePartial(merged, a.partial)
      await tx.rollups.update(a, partialToRollup(a.bucket, a.groupKey, merged))
    }
    if (a.uniques.size > 0) await tx.rollups.addUniques(a, a.uniques)
  }
}

async function prepareFold(tx: Tx, maxRows: number): Promise<PreparedRollups | undefined> {
  const from = await tx.events.foldedSeq()
  const to = Math.min(await tx.events.maxSeq(), from + maxRows)
  if (to <= from) return undefined
  return prepareRollups(tx, from, to, await tx.events.range(from, to))
}

/**
 * Adds up the events of (from, to] for the rollups, from rows read by the caller (rows at or
 * before `from` are skipped: a pass shared with another fold may start earlier).
 */
export async function prepareRollups(tx: Tx, from: number, to: number, rows: readonly EventRecord[]): Promise<PreparedRollups> {
  const generation = await tx.rollups.generation()
  const meters = new MetersOf(tx)
  const acc: Accumulation = new Map()
  for (const row of rows) if (row.seq > from) accumulate(acc, await meters.get(row.tenantId), row, undefined)
  return { from, to, generation, acc }
}

/**
 * Writes a pass prepared in a read snapshot, inside the write transaction. If a correction or a
 * configuration change landed in between (the generation moved), or another fold got there
 * first, the pass is redone from the events under the lock. Answers how many events it folded.
 */
export async function commitRollups(tx: Tx, prepared: PreparedRollups, maxRows: number): Promise<number> {
  if (await tx.events.foldedSeq() === prepared.from && await tx.rollups.generation() === prepared.generation) return commitFold(tx, prepared)
  const p = await prepareFold(tx, maxRows)
  return p === undefined ? 0 : commitFold(tx, p)
}

async function commitFold(tx: Tx, p: PreparedRollups): Promise<number> {
  await write(tx, p.acc)
  await tx.events.markFolded(p.from, p.to)
  return p.to - p.from
}

/**
 * Folds up to `maxRows` events past the watermark into the rollups; answers how many.
 * `concurrent` (a fold beside the writer, on another connection): the reading and adding up
 * happen in a read snapshot without the write lock, and only the writing takes it, briefly; if a
 * correction or a configuration change landed in between (the generation moved), the pass is
 * redone under the lock.
 */
export async function foldRollups(storage: Storage, maxRows: number, options: { concurrent?: boolean } = {}): Promise<number> {
  if (!options.concurrent) {
    return storage.transaction('write', async (tx) => {
      const p = await prepareFold(tx, maxRows)
      return p === undefined ? 0 : commitFold(tx, p)
    })
  }
  const prepared = await storage.transaction('read', (tx) => prepareFold(tx, maxRows))
  if (prepared === undefined) return 0
  return storage.transaction('write', (tx) => commitRollups(tx, prepared, maxRows))
}

/**
 * Recomputes one customer's bucket for the given meters from raw events (after a void or an
 * amend), inside the caller's write transaction. Events past the watermark are left to the fold.
 */
export async function recomputeBucket(tx: Tx, tenantId: number, customerId: string, ts: number, meterKeys: ReadonlySet<string>): Promise<void> {
  await tx.rollups.bumpGeneration()
  const bucket = bucketOf(ts)
  const meters = tenantMeters(await tx.configs.current(tenantId))
  for (const meter of meterKeys) await tx.rollups.deleteBucket(tenantId, meter, customerId, bucket)
  const acc: Accumulation = new Map()
  for (const row of await tx.events.customerRange(tenantId, customerId, bucket, bucket + BUCKET_MS, { folded: true })) {
    accumulate(acc, meters, row, meterKeys)
  }
  await write(tx, acc)
}

/**
 * Makes the rollups follow a new configuration, inside the write transaction that stores it:
 * meters removed or changed lose their rollups, meters added or changed are rebuilt from the
 * events up to the watermark.
 */
export async function followConfig(tx: Tx, tenantId: number, previous: TenantConfig, next: { version: number; config: TenantConfig }): Promise<void> {
  await tx.rollups.bumpGeneration()
  const same = (m: MeterConfig) => canonicalJson(m as unknown as JsonValue)
  const before = new Map(previous.meters.map((m) => [m.key, same(m)]))
  const after = new Map(next.config.meters.map((m) => [m.key, m]))
  for (const [key, json] of before) {
    const m = after.get(key)
    if (m === undefined || same(m) !== json) await tx.rollups.deleteMeter(tenantId, key)
  }
  const rebuild = next.config.meters.filter((m) => before.get(m.key) !== same(m))
  if (rebuild.length === 0) return
  const meters = tenantMeters(next)
  const w = await tx.events.foldedSeq()
  const keys = new Set(rebuild.map((m) => m.key))
  for (const eventName of new Set(rebuild.map((m) => m.event))) {
    const acc: Accumulation = new Map()
    for (const row of await tx.events.named(tenantId, eventName, w)) accumulate(acc, meters, row, keys)
    await write(tx, acc)
  }
}

export interface RollupAudit {
  /** Events up to the watermark. */
  events: number
  /** Events past it. */
  unfolded: number
  /** Rollup rows compared. */
  rollups: number
  differences: string[]
}

/**
 * Rebuilds every rollup from the raw events up to the watermark, in memory, one customer at a
 * time, and compares it with the stored rollups, unique values and the store's indexes: the
 * standing proof that the fast figures and the facts agree. Run it in a read transaction.
 */
export async function verifyRollups(tx: Tx, maxDifferences = 50): Promise<RollupAudit> {
  const w = await tx.events.foldedSeq()
  const differences: string[] = []
  const note = (text: string) => {
    if (differences.length < maxDifferences) differences.push(text)
  }
  const audit = await tx.events.audit(w)
  for (const problem of audit.problems) note(problem)
  const meters = new MetersOf(tx)
  let rollups = 0
  for (const { tenantId, customerId } of await tx.events.foldedCustomers()) {
    const tenant = await meters.get(tenantId)
    const acc: Accumulation = new Map()
    for (const row of await tx.events.foldedOf(tenantId, customerId)) accumulate(acc, tenant, row, undefined)
    const seen = new Set<string>()
    for (const meter of tenant.byKey.keys()) {
      const stored = await tx.rollups.allOf(tenantId, meter, customerId)
      const uniques = new Map<string, Set<string>>()
      for (const u of stored.uniques) {
        const k = `${tenantId}\u0001${customerId}\u0001${u.bucket}\u0001${meter}\u0001${u.groupKey}`
        let set = uniques.get(k)
        if (set === undefined) uniques.set(k, (set = new Set()))
        set.add(u.value)
      }
      for (const row of stored.rows) {
        rollups++
        const k = `${tenantId}\u0001${customerId}\u0001${row.bucket}\u0001${meter}\u0001${row.groupKey}`
        seen.add(k)
        const where = () => `tenant ${tenantId} meter ${meter} customer ${customerId} bucket ${new Date(row.bucket).toISOString()} group ${row.groupKey || '(none)'}`
        const expected = acc.get(k)
        if (expected === undefined) {
          note(`${where()}: stored rollup has no events behind it`)
          continue
        }
        const want = partialToRollup(row.bucket, row.groupKey, expected.partial)
        const fields = ['count', 'sum', 'min', 'max', 'latestTs', 'latestId', 'latestValue'] as const
        if (fields.some((f) => want[f] !== row[f])) {
          note(`${where()}: stored ${JSON.stringify(fields.map((f) => row[f]))}, events give ${JSON.stringify(fields.map((f) => want[f]))}`)
        }
        const storedSet = uniques.get(k) ?? new Set<string>()
        if (storedSet.size !== expected.uniques.size || [...expected.uniques].some((v) => !storedSet.has(v))) {
          note(`${where()}: unique values differ (stored ${storedSet.size}, events give ${expected.uniques.size})`)
        }
      }
    }
    for (const [k, a] of acc) {
      if (!seen.has(k)) note(`tenant ${a.tenantId} meter ${a.meter} customer ${a.customerId} bucket ${new Date(a.bucket).toISOString()}: events give a rollup that is not stored`)
    }
  }
  const unfolded = (await tx.events.maxSeq()) - w
  return { events: audit.events, unfolded, rollups, differences }
}

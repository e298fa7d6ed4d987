// Reading usage: rollups for the whole 15-minute buckets of the range, and single events for the
// partial buckets at its edges and for the newest events not yet folded (past the watermark),
// all in the caller's transaction, so the watermark and the rows agree.
import type { JsonValue } from '@meterkit/protocol'
import { decodeCursor, encodeCursor } from '../store/cursor.js'
import type { Page, UsageEvent, UsageEventsRequest, UsageRequest } from '../store/port.js'
import type { Tx } from '../store/storage.js'
import { numericText, partialOf } from './aggregate.js'
import { bucketOf, nextBucketBoundary } from './buckets.js'
import { type TenantMeters, tenantMeters } from './compiled.js'
import { type CompiledMeter, contribution } from './meter.js'
import type { EventRecord } from './storage.js'
import { UsageAccumulator, type UsageResult } from './usage.js'

async function meterOf(tx: Tx, tenantId: number, key: string): Promise<{ meter: CompiledMeter; version: number } | { error: string }> {
  const t: TenantMeters = tenantMeters(await tx.configs.current(tenantId))
  const meter = t.byKey.get(key)
  return meter === undefined ? { error: `meter: no meter "${key}" in configuration version ${t.version}` } : { meter, version: t.version }
}

const SIMPLE = new Set(['count', 'sum', 'avg', 'unique_count'])

/** Metered usage of one customer and meter over [from, to), from rollups and the events around them. */
export async function readUsage(tx: Tx, tenantId: number, r: UsageRequest): Promise<UsageResult | { error: string }> {
  const found = await meterOf(tx, tenantId, r.meter)
  if ('error' in found) return found
  const { meter, version } = found
  for (const dim of r.groupBy) {
    if (!meter.groupBy.includes(dim)) return { error: `groupBy: "${dim}" is not a groupBy dimension of meter "${meter.key}"` }
  }
  const timeZone = await tx.customers.timeZone(tenantId, r.customerId)
  const acc = new UsageAccumulator(meter, { fromMs: r.fromMs, toMs: r.toMs, window: r.window, groupBy: r.groupBy, timeZone }, version)
  const add = (row: EventRecord) => {
    if (row.status === 'voided') return
    const c = contribution(meter, row.event, row.source, JSON.parse(row.properties) as JsonValue)
    if (c !== undefined) acc.addEvent(row.timestampMs, row.id, c)
  }
  const alignedFrom = nextBucketBoundary(r.fromMs)
  const alignedTo = bucketOf(r.toMs)
  const folded = { event: meter.event, folded: true }
  if (alignedFrom < alignedTo) {
    for (const row of await tx.rollups.rollups(tenantId, meter.key, r.customerId, alignedFrom, alignedTo, SIMPLE.has(meter.aggregation))) {
      acc.addPartial(row.bucket, row.groupKey, partialOf(row))
    }
    if (meter.aggregation === 'unique_count') {
      for (const u of await tx.rollups.uniques(tenantId, meter.key, r.customerId, alignedFrom, alignedTo)) acc.addUnique(u.bucket, u.groupKey, u.value)
    }
    // Partial buckets at the edges, up to the watermark.
    for (const [a, b] of [[r.fromMs, alignedFrom], [alignedTo, r.toMs]] as const) {
      if (a < b) for (const row of await tx.events.customerRange(tenantId, r.customerId, a, b, folded)) add(row)
    }
  } else {
    for (const row of await tx.events.customerRange(tenantId, r.customerId, r.fromMs, r.toMs, folded)) add(row)
  }
  for (const row of await tx.events.customerRange(tenantId, r.customerId, r.fromMs, r.toMs, { event: meter.event, folded: false })) add(row)
  return acc.result()
}

/** The exact events behind a usage figure, oldest first (time, then id), paged. */
export async function readUsageEvents(tx: Tx, tenantId: number, r: UsageEventsRequest): Promise<Page<UsageEvent> | { error: string }> {
  const found = await meterOf(tx, tenantId, r.meter)
  if ('error' in found) return found
  const { meter } = found
  for (const dim of Object.keys(r.group ?? {})) {
    if (!meter.groupBy.includes(dim)) return { error: `group: "${dim}" is not a groupBy dimension of meter "${meter.key}"` }
  }
  let after: [number, string] | undefined
  if (r.cursor !== undefined) {
    const key = decodeCursor(r.cursor)
    if (key === undefined || typeof key[0] !== 'number' || typeof key[1] !== 'string') return { error: 'cursor: not a cursor this list returned' }
    after = [key[0], key[1]]
  }
  const matches: UsageEvent[] = []
  for (const row of await tx.events.customerRange(tenantId, r.customerId, after ? after[0] : r.fromMs, r.toMs, { event: meter.event })) {
    if (row.status === 'voided') continue
    if (after && (row.timestampMs < after[0] || (row.timestampMs === after[0] && row.id <= after[1]))) continue
    const c = contribution(meter, row.event, row.source, JSON.parse(row.properties) as JsonValue)
    if (c === undefined) continue
    const values = c.groupKey === '' ? [] : (JSON.parse(c.groupKey) as JsonValue[])
    const group = Object.fromEntries(meter.groupBy.map((dim, i) => [dim, values[i] ?? null]))
    if (r.group && Object.entries(r.group).some(([dim, v]) => JSON.stringify(group[dim]) !== JSON.stringify(v))) continue
    matches.push({ id: row.id, timestampMs: row.timestampMs, value: c.value !== undefined ? numericText(c.value) : c.unique ?? null, group })
  }
  matches.sort((a, b) => a.timestampMs - b.timestampMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const data = matches.slice(0, r.limit)
  const last = data[data.length - 1]
  return { data, nextCursor: matches.length > r.limit && last ? encodeCursor([last.timestampMs, last.id]) : null }
}

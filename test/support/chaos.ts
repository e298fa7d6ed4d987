// Seeds, a seeded PRNG and the delivery audit shared by the chaos tests (test/chaos/).
// Fast variants use fixed seeds in the normal suite; `MK_CHAOS_LONG=1` runs more seeds and more
// events; `MK_CHAOS_SEED=<n>` replays one seed. A failing run names its seed in the error.
import { rmSync } from 'node:fs'
import Database from 'better-sqlite3'

/** True when the long variants are asked for (`MK_CHAOS_LONG=1`). */
export const CHAOS_LONG = process.env.MK_CHAOS_LONG === '1'

/** mulberry32: a tiny seeded PRNG over a 32-bit state; enough for choosing faults. */
export class Prng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(p: number): boolean {
    return this.next() < p
  }
}

/** FNV-1a over bytes: a stable 32-bit fingerprint (used to key fault decisions on content). */
export function fnv1a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

/**
 * The seeds of one chaos test: `MK_CHAOS_SEED` alone when set; else `fast` fixed seeds in the
 * normal suite, or `long` fresh seeds (drawn from the clock, printed) under `MK_CHAOS_LONG=1`.
 */
export function chaosSeeds(name: string, fast: number, long: number): number[] {
  const forced = process.env.MK_CHAOS_SEED
  if (forced !== undefined && forced !== '') {
    const seed = Number(forced)
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`MK_CHAOS_SEED must be a 32-bit unsigned integer (got "${forced}")`)
    return [seed]
  }
  if (!CHAOS_LONG) return Array.from({ length: fast }, (_, i) => 1000 + i * 7919)
  const base = (Date.now() ^ (process.pid << 16)) >>> 0
  const seeds = Array.from({ length: long }, (_, i) => (base + i * 2654435761) >>> 0)
  console.log(`[chaos ${name}] long run, seeds: ${seeds.join(', ')}`)
  return seeds
}

/** Runs `fn` for one seed; any failure is rethrown naming the seed and how to replay it. */
export async function withSeed<T>(name: string, seed: number, fn: (rng: Prng) => Promise<T>): Promise<T> {
  try {
    return await fn(new Prng(seed))
  } catch (err) {
    const replay = `[chaos ${name}] failed with seed ${seed}; replay: MK_CHAOS_SEED=${seed} npx vitest run test/chaos/${name}.test.ts`
    console.error(replay)
    if (err instanceof Error) {
      err.message = `${replay}\n${err.message}`
      throw err
    }
    throw new Error(`${replay}\n${String(err)}`)
  }
}

/** A unique event with a fixed id, as a retrying client sends it. */
export interface SentEvent {
  id: string
  event: string
  customerId: string
  timestamp: string
  properties: Record<string, unknown>
}

/** Yesterday, 00:00 UTC: inside the lateness window, and the same all day, so that request
 * bytes (and with them the fault proxy's decisions) replay from a seed. */
export function stableTimestamp(nowMs = Date.now()): string {
  return new Date(Math.floor(nowMs / 86_400_000) * 86_400_000 - 86_400_000).toISOString()
}

export function makeEvents(prefix: string, count: number, timestamp = stableTimestamp()): SentEvent[] {
  const ts = timestamp
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${String(i).padStart(7, '0')}`,
    event: i % 5 === 0 ? 'clip.generated' : 'render.completed',
    customerId: `cus_${i % 23}`,
    timestamp: ts,
    properties: { gpuSeconds: (i % 97) / 4, n: i, resolution: i % 3 ? '1080p' : '4k' },
  }))
}

/** Rows of the events table, counted per (tenant, id), read from the database file itself. */
export interface StoredRow {
  tenantId: number
  id: string
  count: number
  event: string
  customerId: string
  properties: string
}

export function readStored(dbPath: string): StoredRow[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true })
  try {
    return db.prepare(
      `SELECT tenant_id AS tenantId, id, count(*) AS count, min(event) AS event,
              min(customer_id) AS customerId, min(properties) AS properties
       FROM events GROUP BY tenant_id, id`,
    ).all() as StoredRow[]
  } finally {
    db.close()
  }
}

export interface Audit {
  sent: number
  acknowledged: number
  stored: number
  /** Acknowledged (accepted or duplicate) but not stored. */
  lost: string[]
  /** Stored more than once. */
  duplicated: string[]
  /** Stored but never sent, or stored with other content than sent. */
  unexpected: string[]
}

/**
 * The delivery audit: every acknowledged event is stored, none twice, and nothing is stored
 * that was not sent (with the same content).
 */
export function audit(sent: ReadonlyMap<string, SentEvent>, acknowledged: ReadonlySet<string>, stored: StoredRow[]): Audit {
  const byId = new Map(stored.map((r) => [r.id, r]))
  const lost = [...acknowledged].filter((id) => !byId.has(id))
  const duplicated = stored.filter((r) => r.count !== 1).map((r) => r.id)
  const unexpected: string[] = []
  for (const row of stored) {
    const e = sent.get(row.id)
    if (e === undefined || e.event !== row.event || e.customerId !== row.customerId
      || JSON.stringify(JSON.parse(row.properties)) !== JSON.stringify(e.properties)) unexpected.push(row.id)
  }
  return { sent: sent.size, acknowledged: acknowledged.size, stored: stored.length, lost, duplicated, unexpected }
}

/** Short text of an audit for failure messages and logs. */
export function describeAudit(a: Audit): string {
  const head = (ids: string[]) => (ids.length ? ` (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''})` : '')
  return `sent ${a.sent}, acknowledged ${a.acknowledged}, stored ${a.stored}; ` +
    `lost ${a.lost.length}${head(a.lost)}, duplicated ${a.duplicated.length}${head(a.duplicated)}, ` +
    `unexpected ${a.unexpected.length}${head(a.unexpected)}`
}

/** Removes a folder, ignoring a folder already gone. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** Resolves after `ms`; for backoff and fault timing only, never to assert timing. */
export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

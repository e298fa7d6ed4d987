// The usage and credit-ledger audit of the chaos tests (CONTRACT §7.3, §7.5, §7.6): a
// configuration with credit-priced charges applied before the ingest, and, at the end, every
// figure the collector answers held to figures this file computes itself from the events the
// client saw acknowledged, in exact fixed-point integer arithmetic (no floats, no engine code):
//
// - usage: GET /v1/customers/:id/usage of every meter equals the sum or count of those events;
// - the ledger balances: Σ `credits` of every entry == `balance`, and each `balanceAfter` is the
//   running sum;
// - grants − balance == the price of the customer's usage (per_unit and graduated tiers);
// - every deduction names event ids; each acknowledged event is named by exactly one deduction
//   (else *lost* or *duplicated*), and nothing else is named (*unexpected*). A deduction that
//   takes from several grants is one entry per grant touched, all naming the same events
//   (decision 0006): such a run of entries counts as one deduction.
//
// `ledgerAtKill` checks the database file right after a kill -9, before the restart: the fold
// that turns events into deductions is crash-consistent (deductions name exactly the events up
// to the credits watermark, each once, and every customer's entries sum to its stored balance).
import Database from 'better-sqlite3'
import { ADMIN_KEY } from './collector-process.js'
import type { SentEvent } from './chaos.js'

// ---- exact decimals as scaled integers ----

/** Decimal places of the fixed-point numbers below; past the 20 the engine keeps in divisions, so every figure read fits exactly. */
const PLACES = 30
const UNIT = 10n ** BigInt(PLACES)

/** A decimal string (or a JS number's shortest decimal form) as an integer count of 10^-PLACES; throws rather than round. */
export function fixed(value: string | number): bigint {
  const text = typeof value === 'number' ? String(value) : value
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i.exec(text)
  if (m === null) throw new Error(`not a decimal: "${text}"`)
  const digits = BigInt(`${m[2]}${m[3] ?? ''}`)
  const exponent = Number(m[4] ?? 0) - (m[3]?.length ?? 0) + PLACES
  let scaled: bigint
  if (exponent >= 0) scaled = digits * 10n ** BigInt(exponent)
  else {
    const divisor = 10n ** BigInt(-exponent)
    if (digits % divisor !== 0n) throw new Error(`"${text}" has more than ${PLACES} decimal places`)
    scaled = digits / divisor
  }
  return m[1] === '-' ? -scaled : scaled
}

/** The product of two fixed-point numbers; throws rather than round. */
function times(a: bigint, b: bigint): bigint {
  const p = a * b
  if (p % UNIT !== 0n) throw new Error(`product has more than ${PLACES} decimal places`)
  return p / UNIT
}

/** A fixed-point number as a canonical decimal string ("12.5", "-3", "0.0125"). */
export function formatFixed(v: bigint): string {
  const sign = v < 0n ? '-' : ''
  const abs = v < 0n ? -v : v
  const int = abs / UNIT
  const frac = (abs % UNIT).toString().padStart(PLACES, '0').replace(/0+$/, '')
  return `${sign}${int}${frac ? `.${frac}` : ''}`
}

// ---- the configuration under audit ----

const GPU_PRICE = '0.0125'
const CLIP_PRICE = '0.3'
const RENDER_TIERS = [
  { upTo: '50', unitAmount: '0.5' },
  { upTo: '200', unitAmount: '0.2', flatAmount: '10' },
  { upTo: null, unitAmount: '0.05', flatAmount: '5' },
] as const
/** The plan's one-time grant, burnt first (priority 10) and used up during the ingest. */
const PLAN_GRANT = '50'
/** The large grant each customer is given (priority 100, the default). */
export const LEDGER_GRANT = '1000000'
const GRANT_ID = 'chaos-audit-grant'
const PLAN = 'studio'

/**
 * Three additive meters over the events of `makeEvents` (chaos.ts), each priced in credits, so
 * every event costs something: GPU seconds per unit, renders on graduated tiers (with flat
 * amounts, so crossing a tier matters), clips per unit. A yearly anniversary plan: the events
 * (yesterday) fall in the subscription's first period, which no billing run closes meanwhile.
 * The plan's own one-time grant burns first; once it is used up, deductions take from the
 * customer's large grant, so some deductions span two grants.
 */
export const LEDGER_CONFIG = {
  meters: [
    { key: 'gpu_seconds', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds' },
    { key: 'renders', event: 'render.completed', aggregation: 'count' },
    { key: 'clips', event: 'clip.generated', aggregation: 'count' },
  ],
  plans: [{
    key: PLAN, currency: 'USD', interval: 'year', anchor: 'anniversary', creditPrice: '0.01',
    charges: [
      { key: 'gpu', meter: 'gpu_seconds', unit: 'credits', model: 'per_unit', unitAmount: GPU_PRICE },
      { key: 'renders', meter: 'renders', unit: 'credits', model: 'graduated', tiers: RENDER_TIERS },
      { key: 'clips', meter: 'clips', unit: 'credits', model: 'per_unit', unitAmount: CLIP_PRICE },
    ],
    grants: [{ credits: PLAN_GRANT, priority: 10 }],
  }],
}

/** Per customer: each meter's usage and the credits it costs, from the events alone. */
export interface Expected {
  gpuSeconds: bigint
  renders: bigint
  clips: bigint
  cost: bigint
}

/** Graduated, by CONTRACT §8: `upTo` inclusive, each tier's units at its price, its flat amount once a unit falls in it. */
function graduated(quantity: bigint): bigint {
  let total = 0n
  let below = 0n
  for (const tier of RENDER_TIERS) {
    const top = tier.upTo === null ? quantity : fixed(tier.upTo) < quantity ? fixed(tier.upTo) : quantity
    const units = top - below
    if (units > 0n) total += times(units, fixed(tier.unitAmount)) + ('flatAmount' in tier ? fixed(tier.flatAmount) : 0n)
    if (tier.upTo !== null) below = fixed(tier.upTo)
    if (below >= quantity) break
  }
  return total
}

export function expectedOf(events: Iterable<SentEvent>): Map<string, Expected> {
  const usage = new Map<string, { gpuSeconds: bigint; renders: bigint; clips: bigint }>()
  for (const e of events) {
    let u = usage.get(e.customerId)
    if (u === undefined) usage.set(e.customerId, (u = { gpuSeconds: 0n, renders: 0n, clips: 0n }))
    if (e.event === 'render.completed') {
      u.renders += UNIT
      u.gpuSeconds += fixed(e.properties.gpuSeconds as number)
    } else if (e.event === 'clip.generated') {
      u.clips += UNIT
    }
  }
  return new Map([...usage].map(([customerId, u]) => [customerId, {
    ...u,
    cost: times(u.gpuSeconds, fixed(GPU_PRICE)) + graduated(u.renders) + times(u.clips, fixed(CLIP_PRICE)),
  }]))
}

// ---- over HTTP ----

async function call<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text}`)
  return JSON.parse(text) as T
}

/**
 * Applies LEDGER_CONFIG, subscribes every customer from `startAt` (before the events) and gives
 * each a grant of LEDGER_GRANT credits. Straight to the collector, never through a fault proxy.
 */
export async function setUpLedger(url: string, customerIds: Iterable<string>, startAt: string): Promise<void> {
  await call(url, 'PUT', '/v1/config', LEDGER_CONFIG)
  for (const customerId of customerIds) {
    await call(url, 'POST', '/v1/subscriptions', { id: `sub_${customerId}`, customerId, plan: PLAN, startAt })
    await call(url, 'POST', `/v1/customers/${encodeURIComponent(customerId)}/grants`, { id: GRANT_ID, credits: LEDGER_GRANT })
  }
}

interface LedgerEntry {
  id: string
  type: string
  credits: string
  balanceAfter: string
  at: string
  grantId?: string
  eventIds?: string[]
}

/**
 * Splits deduction entries, in ledger order, into deductions: a run of consecutive entries at
 * the same instant naming the same events, each from another grant (the overage part, without a
 * grant, last) is one deduction. A repeated grant starts a new one, so a double charge of the
 * same events stays two deductions.
 */
export function deductionsOf(entries: readonly { at: string | number; grantId?: string | null; eventIds: string }[]): string[][] {
  const out: string[][] = []
  let last: { at: string | number; eventIds: string; grants: Set<string>; overage: boolean } | undefined
  for (const e of entries) {
    const grant = e.grantId ?? null
    const same = last !== undefined && last.at === e.at && last.eventIds === e.eventIds && !last.overage
      && (grant === null || !last.grants.has(grant))
    if (same) {
      if (grant === null) last!.overage = true
      else last!.grants.add(grant)
      continue
    }
    last = { at: e.at, eventIds: e.eventIds, grants: new Set(grant === null ? [] : [grant]), overage: grant === null }
    out.push(JSON.parse(e.eventIds) as string[])
  }
  return out
}

async function ledgerOf(url: string, customerId: string): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = []
  let cursor: string | null = null
  for (let page = 0; page < 10_000; page++) {
    const q: string = `limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
    const body: { data: LedgerEntry[]; nextCursor: string | null } = await call(url, 'GET', `/v1/customers/${encodeURIComponent(customerId)}/ledger?${q}`)
    entries.push(...body.data)
    cursor = body.nextCursor
    if (cursor === null) return entries
  }
  throw new Error('ledger: too many pages')
}

export interface LedgerAudit {
  customers: number
  /** Acknowledged events the ledger was held to. */
  events: number
  /** Ledger entries read. */
  entries: number
  /** Σ credits deducted over all customers (== Σ expected cost when nothing is wrong). */
  credits: string
  /** Acknowledged, but named by no deduction. */
  lost: string[]
  /** Named by more than one deduction (or twice by one). */
  duplicated: string[]
  /** Named by a deduction but not an acknowledged event of that customer. */
  unexpected: string[]
  /** Any other figure that differs: usage, Σ entries vs balance, cost, running balances. */
  mismatches: string[]
}

/**
 * Audits usage and the credit ledger of every customer of `acknowledged` (the events the client
 * saw answered `accepted` or `duplicate`) through the API of the collector at `url`.
 */
export async function auditLedger(url: string, acknowledged: readonly SentEvent[], range: { from: string; to: string }): Promise<LedgerAudit> {
  const expected = expectedOf(acknowledged)
  const ackedBy = new Map<string, Set<string>>()
  for (const e of acknowledged) {
    let ids = ackedBy.get(e.customerId)
    if (ids === undefined) ackedBy.set(e.customerId, (ids = new Set()))
    ids.add(e.id)
  }
  const result: LedgerAudit = { customers: 0, events: acknowledged.length, entries: 0, credits: '0', lost: [], duplicated: [], unexpected: [], mismatches: [] }
  let deductedAll = 0n
  for (const [customerId, want] of [...expected].sort(([a], [b]) => a.localeCompare(b))) {
    result.customers++
    const c = encodeURIComponent(customerId)
    // (a) usage, exactly.
    for (const [meter, value] of [['gpu_seconds', want.gpuSeconds], ['renders', want.renders], ['clips', want.clips]] as const) {
      const usage: { value: string } = await call(url, 'GET', `/v1/customers/${c}/usage?meter=${meter}&from=${range.from}&to=${range.to}`)
      if (fixed(usage.value) !== value) result.mismatches.push(`${customerId} usage ${meter}: ${usage.value}, expected ${formatFixed(value)}`)
    }
    // (b) the ledger balances, entry by entry and in total.
    const balance: { balance: string } = await call(url, 'GET', `/v1/customers/${c}/balance`)
    const entries = await ledgerOf(url, customerId)
    result.entries += entries.length
    let running = 0n
    let granted = 0n
    let deducted = 0n
    const grantIds: string[] = []
    const deductionEntries: { at: string; grantId?: string; eventIds: string }[] = []
    for (const entry of entries) {
      running += fixed(entry.credits)
      if (fixed(entry.balanceAfter) !== running) result.mismatches.push(`${customerId} ${entry.id}: balanceAfter ${entry.balanceAfter}, running sum ${formatFixed(running)}`)
      if (entry.type === 'grant') {
        granted += fixed(entry.credits)
        grantIds.push(entry.grantId ?? '?')
      } else if (entry.type === 'deduction') {
        deducted -= fixed(entry.credits)
        if (entry.eventIds === undefined || entry.eventIds.length === 0) result.mismatches.push(`${customerId} ${entry.id}: a deduction naming no event`)
        deductionEntries.push({ at: entry.at, grantId: entry.grantId, eventIds: JSON.stringify(entry.eventIds ?? []) })
      } else {
        result.mismatches.push(`${customerId} ${entry.id}: unexpected entry type ${entry.type} (${entry.credits})`)
      }
    }
    if (running !== fixed(balance.balance)) result.mismatches.push(`${customerId}: Σ entries ${formatFixed(running)} ≠ balance ${balance.balance}`)
    // (c) what was deducted is the price of the usage: the plan's grant and ours, once each.
    const planGrant = `sub_${customerId}:${PLAN}:0`
    if (grantIds.length !== 2 || !grantIds.includes(GRANT_ID) || !grantIds.includes(planGrant) || granted !== fixed(LEDGER_GRANT) + fixed(PLAN_GRANT)) {
      result.mismatches.push(`${customerId}: grants ${grantIds.join(', ')} of ${formatFixed(granted)} credits, expected ${planGrant} and ${GRANT_ID}`)
    }
    if (granted - fixed(balance.balance) !== want.cost) {
      result.mismatches.push(`${customerId}: grants − balance = ${formatFixed(granted - fixed(balance.balance))}, expected cost ${formatFixed(want.cost)}`)
    }
    if (deducted !== want.cost) result.mismatches.push(`${customerId}: deductions ${formatFixed(deducted)}, expected cost ${formatFixed(want.cost)}`)
    deductedAll += deducted
    // (d) each acknowledged event named by exactly one deduction, nothing else named.
    const named = new Map<string, number>()
    for (const ids of deductionsOf(deductionEntries)) for (const id of ids) named.set(id, (named.get(id) ?? 0) + 1)
    const acked = ackedBy.get(customerId)!
    for (const id of acked) if (!named.has(id)) result.lost.push(id)
    for (const [id, n] of named) {
      if (n > 1) result.duplicated.push(id)
      if (!acked.has(id)) result.unexpected.push(id)
    }
  }
  result.credits = formatFixed(deductedAll)
  return result
}

/** Short text of a ledger audit for failure messages and the summary line. */
export function describeLedgerAudit(a: LedgerAudit): string {
  const head = (ids: string[]) => (ids.length ? ` (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''})` : '')
  return `ledger: ${a.customers} customers, ${a.events} events, ${a.entries} entries, ${a.credits} credits deducted; ` +
    `lost ${a.lost.length}${head(a.lost)}, duplicated ${a.duplicated.length}${head(a.duplicated)}, ` +
    `unexpected ${a.unexpected.length}${head(a.unexpected)}, mismatches ${a.mismatches.length}` +
    `${a.mismatches.length ? ` (${a.mismatches.slice(0, 5).join('; ')}${a.mismatches.length > 5 ? '; …' : ''})` : ''}`
}

// ---- the file right after a kill ----

export interface LedgerAtKill {
  watermark: number
  /** Events at or below the credits watermark (what the fold has deducted). */
  folded: number
  /** Problems found; empty when the file is consistent. */
  problems: string[]
}

/**
 * Reads the database file of a killed collector: every deduction names only events at or below
 * the credits watermark, each of them once, and each customer's entries sum to the balance of
 * its stored state (so no deduction is half-applied, none applied without its watermark move).
 */
export function ledgerAtKill(dbPath: string): LedgerAtKill {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true })
  try {
    return db.transaction(() => {
      const watermark = db.prepare("SELECT seq FROM index_state WHERE name = 'credits'").pluck().get() as number
      const folded = new Map((db.prepare('SELECT id, customer_id AS customerId FROM events WHERE seq <= ?').all(watermark) as { id: string; customerId: string }[]).map((r) => [r.id, r.customerId]))
      const problems: string[] = []
      const named = new Map<string, number>()
      const sums = new Map<string, bigint>()
      const deductions = new Map<string, { at: number; grantId: string | null; eventIds: string }[]>()
      for (const r of db.prepare('SELECT customer_id AS customerId, type, credits, at, grant_id AS grantId, event_ids AS eventIds FROM credit_entries ORDER BY customer_id, n').all() as { customerId: string; type: string; credits: string; at: number; grantId: string | null; eventIds: string | null }[]) {
        sums.set(r.customerId, (sums.get(r.customerId) ?? 0n) + fixed(r.credits))
        if (r.type !== 'deduction') continue
        let list = deductions.get(r.customerId)
        if (list === undefined) deductions.set(r.customerId, (list = []))
        list.push({ at: r.at, grantId: r.grantId, eventIds: r.eventIds ?? '[]' })
      }
      for (const [customerId, list] of deductions) {
        for (const ids of deductionsOf(list)) {
          for (const id of ids) {
            named.set(id, (named.get(id) ?? 0) + 1)
            if (folded.get(id) !== customerId) problems.push(`${id} deducted from ${customerId} but not an event of it at or below the watermark ${watermark}`)
          }
        }
      }
      for (const [id, n] of named) if (n > 1) problems.push(`${id} deducted ${n} times`)
      for (const id of folded.keys()) if (!named.has(id)) problems.push(`${id} at or below the watermark ${watermark} but deducted nowhere`)
      for (const r of db.prepare('SELECT customer_id AS customerId, state FROM credit_state').all() as { customerId: string; state: string }[]) {
        const balance = (JSON.parse(r.state) as { balance: string }).balance
        if (fixed(balance) !== (sums.get(r.customerId) ?? 0n)) problems.push(`${r.customerId}: Σ entries ${formatFixed(sums.get(r.customerId) ?? 0n)} ≠ stored balance ${balance}`)
      }
      return { watermark, folded: folded.size, problems }
    })()
  } finally {
    db.close()
  }
}

// ---- reads during the ingest ----

export interface ReadsDuringIngest {
  /** Balance and usage answers checked. */
  reads: number
  /** Requests that met the collector as it was killed (refused, reset); not checked. */
  skipped: number
  /** Answers outside what the events allow. */
  failures: string[]
}

/**
 * While `running()` answers true, reads the balance and one meter's usage of a customer in turn,
 * and holds each answer between two bounds computed from the events alone: it includes every
 * event acknowledged before the request was sent (decision 0006: a read folds what is left
 * first), and nothing beyond the events sent. Requests that meet a killed collector are skipped.
 */
export async function readDuringIngest(options: {
  url: () => string
  events: readonly SentEvent[]
  acknowledged: ReadonlySet<string>
  range: { from: string; to: string }
  running: () => boolean
  /** While true (a planned kill and restart), no request is sent. */
  paused?: () => boolean
  pauseMs: number
}): Promise<ReadsDuringIngest> {
  const byCustomer = new Map<string, SentEvent[]>()
  for (const e of options.events) {
    const list = byCustomer.get(e.customerId)
    if (list === undefined) byCustomer.set(e.customerId, [e])
    else list.push(e)
  }
  const customers = [...byCustomer.keys()].sort()
  const upper = expectedOf(options.events)
  const granted = fixed(LEDGER_GRANT) + fixed(PLAN_GRANT)
  const meters = [['gpu_seconds', 'gpuSeconds'], ['renders', 'renders'], ['clips', 'clips']] as const
  const out: ReadsDuringIngest = { reads: 0, skipped: 0, failures: [] }
  const get = async <T>(path: string): Promise<T | undefined> => {
    try {
      const res = await fetch(`${options.url()}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` }, signal: AbortSignal.timeout(5_000) })
      if (res.status !== 200) {
        await res.body?.cancel()
        out.skipped++
        return undefined
      }
      return (await res.json()) as T
    } catch {
      out.skipped++
      return undefined
    }
  }
  for (let i = 0; options.running(); i++) {
    if (options.paused?.()) {
      await new Promise<void>((resolve) => setTimeout(resolve, options.pauseMs))
      continue
    }
    const customerId = customers[i % customers.length]!
    const [meter, field] = meters[i % meters.length]!
    const c = encodeURIComponent(customerId)
    // Acknowledged before the requests leave: each answer must include these.
    const lower = expectedOf(byCustomer.get(customerId)!.filter((e) => options.acknowledged.has(e.id))).get(customerId)
    const low = { cost: lower?.cost ?? 0n, usage: lower?.[field] ?? 0n }
    const high = upper.get(customerId)!
    const balance = await get<{ balance: string }>(`/v1/customers/${c}/balance`)
    if (balance !== undefined) {
      out.reads++
      const deducted = granted - fixed(balance.balance)
      if (deducted < low.cost || deducted > high.cost) {
        out.failures.push(`${customerId} balance ${balance.balance}: deducted ${formatFixed(deducted)}, expected between ${formatFixed(low.cost)} (acknowledged before the read) and ${formatFixed(high.cost)}`)
      }
    }
    const usage = await get<{ value: string }>(`/v1/customers/${c}/usage?meter=${meter}&from=${options.range.from}&to=${options.range.to}`)
    if (usage !== undefined) {
      out.reads++
      const value = fixed(usage.value)
      if (value < low.usage || value > high[field]) {
        out.failures.push(`${customerId} usage ${meter} ${usage.value}: expected between ${formatFixed(low.usage)} (acknowledged before the read) and ${formatFixed(high[field])}`)
      }
    }
    await new Promise<void>((resolve) => setTimeout(resolve, options.pauseMs))
  }
  return out
}

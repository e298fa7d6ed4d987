// Model-based test: random sequences of grants, deductions, holds, settlements, voids, refunds,
// renewals, overage settlements and clock jumps run against the ledger and against a plain model
// written separately; after every command the invariants and the model's figures must agree.
import type Big from 'big.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ZERO, decimal } from '../decimal.js'
import type { Change, CustomerCredits, LedgerEntry } from './index.js'
import {
  addGrant, advance, balanceView, deduct, emptyCredits, entryView, findGrant, findReservation, hold, refund, release,
  renew, settle, settleOverage, verifyCredits, voidGrant,
} from './index.js'

const T0 = Date.parse('2026-11-01T00:00:00.000Z')
const HOUR = 3_600_000
const DAY = 24 * HOUR
const PERIOD = 10 * DAY

// ---------------------------------------------------------------- the model: plain and direct

interface MGrant {
  id: string; credits: Big; remaining: Big; priority: number; effectiveAtMs: number; expiresAtMs: number | null
  seq: number; status: 'pending' | 'active' | 'expired' | 'voided'; periodEndMs?: number; rolledOver?: boolean
}
interface MHold { credits: Big; expiresAtMs: number; status: string; granted: boolean; available: Big }
interface MDeduction { eventIds: string[]; parts: { grantId?: string; credits: Big }[] }

class Model {
  now = T0
  grants = new Map<string, MGrant>()
  seq = 1
  owed: Big = ZERO
  holds = new Map<string, MHold>()
  deductions: MDeduction[] = []
  refunds: { eventIds: string[]; credits: Big }[] = []
  settlements = new Map<string, Big>()
  firstSeq = new Map<string, number>()
  lastPeriod = -1
  events = 0

  advance(t: number): void {
    for (const g of this.grants.values()) {
      if (g.status === 'pending' && g.effectiveAtMs <= t) g.status = 'active'
      if (g.status === 'active' && g.expiresAtMs !== null && g.expiresAtMs <= t) g.status = 'expired'
    }
    for (const h of this.holds.values()) if (h.status === 'held' && h.expiresAtMs <= t) h.status = 'expired'
    this.now = Math.max(this.now, t)
  }
  balance(): Big {
    let sum = ZERO
    for (const g of this.grants.values()) if (g.status === 'active') sum = sum.plus(g.remaining)
    return sum.minus(this.owed)
  }
  reserved(): Big {
    let sum = ZERO
    for (const h of this.holds.values()) if (h.status === 'held') sum = sum.plus(h.credits)
    return sum
  }
  create(g: Omit<MGrant, 'seq' | 'status' | 'remaining'>): void {
    const grant: MGrant = { ...g, remaining: g.credits, seq: this.seq++, status: 'pending' }
    this.grants.set(g.id, grant)
    this.firstSeq.set(g.id, grant.seq)
    if (grant.effectiveAtMs <= this.now) grant.status = 'active'
    if (grant.status === 'active' && grant.expiresAtMs !== null && grant.expiresAtMs <= this.now) grant.status = 'expired'
  }
  deduct(credits: Big, eventIds: string[]): Big {
    const order = [...this.grants.values()]
      .filter((g) => g.status === 'active' && g.remaining.gt(0))
      .sort((a, b) => a.priority - b.priority || (a.expiresAtMs ?? Infinity) - (b.expiresAtMs ?? Infinity) || a.seq - b.seq)
    const parts: MDeduction['parts'] = []
    let left = credits
    for (const g of order) {
      const take = left.lt(g.remaining) ? left : g.remaining
      if (take.eq(0)) break
      g.remaining = g.remaining.minus(take)
      left = left.minus(take)
      parts.push({ grantId: g.id, credits: take })
    }
    if (left.gt(0)) parts.push({ credits: left })
    this.owed = this.owed.plus(left)
    if (credits.gt(0)) this.deductions.push({ eventIds, parts })
    return left
  }
  refundable(eventIds: string[]): Big {
    const hit = (ids: string[]) => ids.some((id) => eventIds.includes(id))
    let sum = ZERO
    for (const d of this.deductions) if (hit(d.eventIds)) for (const p of d.parts) sum = sum.plus(p.credits)
    for (const r of this.refunds) if (hit(r.eventIds)) sum = sum.minus(r.credits)
    return sum
  }
  refund(eventIds: string[], credits: Big): void {
    const hit = (ids: string[]) => ids.some((id) => eventIds.includes(id))
    let skip = ZERO
    for (const r of this.refunds) if (hit(r.eventIds)) skip = skip.plus(r.credits)
    const parts = this.deductions.filter((d) => hit(d.eventIds)).flatMap((d) => d.parts).reverse()
    let need = credits
    let unplaced = ZERO
    for (const p of parts) {
      const avail = p.credits.minus(skip).gt(0) ? p.credits.minus(skip) : ZERO
      skip = skip.minus(p.credits.minus(avail))
      const part = avail.lt(need) ? avail : need
      need = need.minus(part)
      const g = p.grantId === undefined ? undefined : this.grants.get(p.grantId)
      const room = g?.status === 'active' ? g.credits.minus(g.remaining) : ZERO
      const back = part.lt(room) ? part : room
      if (g !== undefined) g.remaining = g.remaining.plus(back)
      unplaced = unplaced.plus(part.minus(back))
    }
    const cut = unplaced.lt(this.owed) ? unplaced : this.owed
    this.owed = this.owed.minus(cut)
    const rest = unplaced.minus(cut)
    if (rest.gt(0)) this.create({ id: `refund_${this.seq}`, credits: rest, priority: 100, effectiveAtMs: this.now, expiresAtMs: null })
    this.refunds.push({ eventIds, credits })
  }
}

// ---------------------------------------------------------------- the ledger under test

interface Real { state: CustomerCredits; entries: LedgerEntry[]; snapshots: string[]; checked: number }

/** Takes an operation's change, first checking that the operation left its input state alone. */
function take(r: Real, before: string, change: Change): void {
  expect(digest(r.state)).toBe(before)
  r.state = change.state
  for (const e of change.entries) {
    r.entries.push(e)
    r.snapshots.push(JSON.stringify(entryView(e)))
  }
}

function digest(s: CustomerCredits): string {
  const grants = [...s.grants.values(), ...s.retiredGrants.values()].map((g) => `${g.id}:${g.status}:${g.remaining}`)
  const holds = [...s.holds.values(), ...s.closedReservations.values()].map((h) => `${h.id}:${h.status}`)
  return [s.clockMs, s.balance, s.owed, s.reserved, s.nextEntrySeq, ...grants, ...holds].join('|')
}

function checkAll(m: Model, r: Real): void {
  expect(verifyCredits(r.state, r.entries)).toEqual([])
  expect(r.entries.reduce((sum, e) => sum.plus(e.credits), ZERO).eq(r.state.balance)).toBe(true)
  expect(r.state.clockMs).toBe(m.now)
  expect(r.state.balance.toString()).toBe(m.balance().toString())
  expect(r.state.owed.toString()).toBe(m.owed.toString())
  expect(r.state.reserved.toString()).toBe(m.reserved().toString())
  expect(r.state.grants.size + r.state.retiredGrants.size).toBe(m.grants.size)
  for (const g of m.grants.values()) {
    const real = findGrant(r.state, g.id)
    expect(real && `${real.status} ${real.remaining} #${real.seq}`, g.id).toBe(`${g.status} ${g.remaining} #${g.seq}`)
  }
  for (const [id, h] of m.holds) expect(findReservation(r.state, id)?.status, id).toBe(h.status)
  const view = balanceView(r.state, r.state.clockMs)
  expect(view.available).toBe(m.balance().minus(m.reserved()).toString())
  // Append-only: every entry reads as it did when it was written.
  r.entries.forEach((e, i) => expect(JSON.stringify(entryView(e))).toBe(r.snapshots[i]))
  for (const e of r.entries.slice(r.checked)) {
    const g = e.grantId === undefined ? undefined : findGrant(r.state, e.grantId)
    if (e.type === 'expiry') expect(e.atMs).toBeGreaterThanOrEqual(g!.expiresAtMs!)
    if (e.type === 'deduction' && e.credits.lt(0) && g !== undefined) {
      expect(e.atMs).toBeGreaterThanOrEqual(g.effectiveAtMs)
      if (g.expiresAtMs !== null) expect(e.atMs).toBeLessThan(g.expiresAtMs)
    }
    if (e.type === 'grant' || e.type === 'top_up') expect(e.atMs).toBeGreaterThanOrEqual(g!.effectiveAtMs)
  }
  r.checked = r.entries.length
}

// ---------------------------------------------------------------- commands

class Step implements fc.Command<Model, Real> {
  constructor(private readonly label: string, private readonly body: (m: Model, r: Real) => void) {}
  check(): boolean {
    return true
  }
  run(m: Model, r: Real): void {
    this.body(m, r)
    checkAll(m, r)
  }
  toString(): string {
    return this.label
  }
}

const amount = fc.integer({ min: 1, max: 5000 }).map((n) => decimal(n).div(100))
const grantAmount = fc.integer({ min: 1, max: 30_000 }).map((n) => decimal(n).div(100))
const dt = fc.oneof(fc.constant(0), fc.integer({ min: -HOUR, max: 6 * HOUR }), fc.integer({ min: 0, max: 3 * DAY }))

const addGrantCmd = fc.record({
  id: fc.constantFrom('g1', 'g2', 'g3', 'g4', 'g5', 'g6'), credits: grantAmount, priority: fc.constantFrom(1, 10, 100),
  effective: fc.oneof(fc.constant(0), fc.integer({ min: -DAY, max: 20 * DAY })),
  life: fc.option(fc.integer({ min: 1, max: 20 * DAY })), topUp: fc.boolean(), dt,
}).map((c) => new Step(`grant ${c.id} ${c.credits} p${c.priority} eff+${c.effective} life ${c.life} dt ${c.dt}`, (m, r) => {
  const atMs = m.now + c.dt
  const t = Math.max(m.now, atMs)
  const effectiveAtMs = atMs + c.effective
  const expiresAtMs = c.life === null ? null : effectiveAtMs + c.life
  const before = digest(r.state)
  const out = addGrant(r.state, { id: c.id, credits: c.credits, priority: c.priority, effectiveAtMs, expiresAtMs, kind: c.topUp ? 'top_up' : 'grant' }, atMs)
  if (m.grants.has(c.id)) {
    expect(out).toMatchObject({ ok: true, duplicate: true, entries: [], state: r.state })
    if (out.ok) expect(out.grant.seq).toBe(m.firstSeq.get(c.id))
    return
  }
  if (expiresAtMs !== null && expiresAtMs <= t) {
    expect(out).toMatchObject({ ok: false, code: 'grant_expired' })
    return
  }
  expect(out.ok).toBe(true)
  if (!out.ok) return
  m.advance(t)
  m.create({ id: c.id, credits: c.credits, priority: c.priority, effectiveAtMs, expiresAtMs })
  take(r, before, out)
}))

function nextEvents(m: Model, n: number): string[] {
  return Array.from({ length: n }, () => `e${++m.events}`)
}

const deductCmd = fc.record({ credits: fc.oneof(amount, fc.constant(ZERO)), n: fc.integer({ min: 1, max: 2 }), dt })
  .map((c) => new Step(`deduct ${c.credits} dt ${c.dt}`, (m, r) => {
    const atMs = m.now + c.dt
    const eventIds = nextEvents(m, c.n)
    const before = digest(r.state)
    const out = deduct(r.state, { credits: c.credits.toString(), eventIds }, atMs)
    m.advance(atMs)
    const overage = m.deduct(c.credits, eventIds)
    expect(out.ok && out.overage.toString()).toBe(overage.toString())
    if (out.ok) take(r, before, out)
  }))

const reservationId = fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5')

const holdCmd = fc.record({ id: reservationId, credits: amount, exact: fc.boolean(), ttlMs: fc.integer({ min: 1, max: 3 * DAY }), block: fc.boolean(), dt })
  .map((c) => new Step(`hold ${c.id} ${c.exact ? 'all available' : c.credits} ttl ${c.ttlMs} block ${c.block} dt ${c.dt}`, (m, r) => {
    const atMs = m.now + c.dt
    const before = digest(r.state)
    // `exact` asks for exactly what is available now (when positive): the edge of `block`.
    const now = balanceView(r.state, atMs).available
    const credits = c.exact && decimal(now).gt(0) ? decimal(now) : c.credits
    const out = hold(r.state, { reservationId: c.id, credits, ttlMs: c.ttlMs, block: c.block }, atMs)
    if (!out.ok) throw new Error(out.code)
    const first = m.holds.get(c.id)
    if (first !== undefined) {
      expect(out).toMatchObject({ duplicate: true, entries: [], state: r.state, granted: first.granted })
      expect(out.available.toString()).toBe(first.available.toString())
      return
    }
    m.advance(atMs)
    const available = m.balance().minus(m.reserved())
    const granted = !c.block || available.gte(credits)
    m.holds.set(c.id, {
      credits, expiresAtMs: m.now + c.ttlMs, status: granted ? 'held' : 'refused', granted,
      available: granted ? available.minus(credits) : available,
    })
    expect(out.granted).toBe(granted)
    expect(out.available.toString()).toBe(m.holds.get(c.id)!.available.toString())
    take(r, before, out)
  }))

const releaseCmd = fc.record({ id: reservationId, dt }).map((c) => new Step(`release ${c.id} dt ${c.dt}`, (m, r) => {
  const atMs = m.now + c.dt
  const before = digest(r.state)
  const out = release(r.state, c.id, atMs)
  const h = m.holds.get(c.id)
  if (h === undefined) return void expect(out).toMatchObject({ ok: false, code: 'reservation_not_found' })
  if (!out.ok) throw new Error(out.code)
  if (h.status !== 'held') return void expect(out).toMatchObject({ released: false, entries: [] })
  m.advance(atMs)
  expect(out.released).toBe(h.status === 'held')
  if (h.status === 'held') h.status = 'released'
  take(r, before, out)
}))

const settleCmd = fc.record({ id: reservationId, cost: fc.oneof(amount, fc.constant(ZERO)), dt })
  .map((c) => new Step(`settle ${c.id} ${c.cost} dt ${c.dt}`, (m, r) => {
    const atMs = m.now + c.dt
    const eventIds = nextEvents(m, 1)
    const before = digest(r.state)
    const out = settle(r.state, { reservationId: c.id, cost: c.cost, eventIds }, atMs)
    if (!out.ok) throw new Error(out.code)
    m.advance(atMs)
    const h = m.holds.get(c.id)
    expect(out.released).toBe(h?.status === 'held')
    if (h?.status === 'held') h.status = 'settled'
    m.deduct(c.cost, eventIds)
    take(r, before, out)
  }))

const voidCmd = fc.record({ id: fc.constantFrom('g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'refund_3'), dt })
  .map((c) => new Step(`void ${c.id} dt ${c.dt}`, (m, r) => {
    const atMs = m.now + c.dt
    const t = Math.max(m.now, atMs)
    const before = digest(r.state)
    const out = voidGrant(r.state, { grantId: c.id }, atMs)
    const g = m.grants.get(c.id)
    if (g === undefined) return void expect(out).toMatchObject({ ok: false, code: 'grant_not_found' })
    if (g.status === 'voided') return void expect(out).toMatchObject({ ok: true, entries: [], state: r.state })
    if (g.status === 'expired' || (g.expiresAtMs !== null && g.expiresAtMs <= t)) {
      return void expect(out).toMatchObject({ ok: false, code: 'grant_expired' })
    }
    m.advance(t)
    if (g.status === 'pending') g.remaining = ZERO
    g.status = 'voided'
    expect(out.ok).toBe(true)
    if (out.ok) take(r, before, out)
  }))

const refundCmd = fc.record({ pick: fc.nat(), firstOnly: fc.boolean(), percent: fc.integer({ min: 0, max: 110 }), dt })
  .map((c) => new Step(`refund #${c.pick} ${c.firstOnly ? 'first' : 'all'} ${c.percent}% dt ${c.dt}`, (m, r) => {
    if (m.deductions.length === 0) return
    const source = m.deductions[c.pick % m.deductions.length]!
    const eventIds = c.firstOnly ? source.eventIds.slice(0, 1) : source.eventIds
    const refundable = m.refundable(eventIds)
    const credits = refundable.times(c.percent).div(100)
    const atMs = m.now + c.dt
    const before = digest(r.state)
    const out = refund(r.state, { eventIds, credits, sources: r.entries }, atMs)
    if (credits.gt(refundable)) return void expect(out).toMatchObject({ ok: false, code: 'refund_exceeds_deducted' })
    if (!out.ok) throw new Error(out.code)
    m.advance(atMs)
    if (credits.gt(0)) m.refund(eventIds, credits)
    take(r, before, out)
  }))

const renewCmd = fc.record({
  step: fc.constantFrom(0, 1, 1, 1, 2), late: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 * DAY }), fc.integer({ min: 0, max: 25 * DAY })),
  credits: grantAmount, max: fc.option(fc.oneof(amount, fc.constant(ZERO))), expiresAfter: fc.constantFrom(undefined, undefined, undefined, 'P5D', 'P15D'),
}).map((c) => new Step(`renew +${c.step} late ${c.late} ${c.credits} max ${c.max} ${c.expiresAfter}`, (m, r) => {
  const k = Math.max(0, m.lastPeriod + c.step)
  const start = T0 + k * PERIOD
  const end = start + PERIOD
  const atMs = Math.max(m.now, start + c.late)
  const before = digest(r.state)
  const out = renew(r.state, {
    series: 's', credits: c.credits, priority: 10, periodStartMs: start, periodEndMs: end,
    ...(c.max === null ? {} : { rollover: { max: c.max } }), ...(c.expiresAfter === undefined ? {} : { expiresAfter: c.expiresAfter }),
  }, atMs)
  const id = `s@${new Date(start).toISOString()}`
  if (!out.ok) throw new Error(out.code)
  if (m.grants.has(id)) return void expect(out).toMatchObject({ duplicate: true, entries: [], state: r.state })
  m.advance(atMs)
  m.lastPeriod = Math.max(m.lastPeriod, k)
  let leftover = ZERO
  for (const g of [...m.grants.values()].sort((a, b) => a.seq - b.seq)) {
    if (g.status !== 'expired' || g.rolledOver || g.periodEndMs === undefined || g.expiresAtMs !== g.periodEndMs || g.periodEndMs > start) continue
    leftover = leftover.plus(g.remaining)
    g.rolledOver = true
  }
  const max = c.max ?? ZERO
  const rolled = leftover.lt(max) ? leftover : max
  const expiresAtMs = c.expiresAfter === 'P5D' ? start + 5 * DAY : c.expiresAfter === 'P15D' ? start + 15 * DAY : end
  const common = { priority: 10, effectiveAtMs: start, expiresAtMs, periodEndMs: end }
  if (rolled.gt(0)) m.create({ ...common, id: `${id}/rollover`, credits: rolled })
  m.create({ ...common, id, credits: c.credits })
  take(r, before, out)
}))

const advanceCmd = fc.record({ mode: fc.constantFrom('delta', 'boundary', 'boundary-1'), delta: fc.integer({ min: 0, max: 5 * DAY }) })
  .map((c) => new Step(`advance ${c.mode} ${c.delta}`, (m, r) => {
    const times = [...m.grants.values()].flatMap((g) => [g.effectiveAtMs, g.expiresAtMs ?? Infinity])
      .concat([...m.holds.values()].map((h) => h.expiresAtMs)).filter((x) => x > m.now && Number.isFinite(x))
    const boundary = times.length === 0 ? m.now + c.delta : Math.min(...times)
    const atMs = c.mode === 'delta' ? m.now + c.delta : c.mode === 'boundary' ? boundary : Math.max(m.now, boundary - 1)
    const before = digest(r.state)
    const out = advance(r.state, atMs)
    m.advance(atMs)
    take(r, before, out)
  }))

const settleOverageCmd = fc.record({ invoiceId: fc.constantFrom('i1', 'i2', 'i3'), dt })
  .map((c) => new Step(`settleOverage ${c.invoiceId} dt ${c.dt}`, (m, r) => {
    const atMs = m.now + c.dt
    const before = digest(r.state)
    const out = settleOverage(r.state, { invoiceId: c.invoiceId }, atMs)
    if (!out.ok) throw new Error(out.code)
    const first = m.settlements.get(c.invoiceId)
    if (first !== undefined) {
      expect(out).toMatchObject({ duplicate: true, entries: [], state: r.state })
      return void expect(out.settled.toString()).toBe(first.toString())
    }
    m.advance(atMs)
    m.settlements.set(c.invoiceId, m.owed)
    expect(out.settled.toString()).toBe(m.owed.toString())
    m.owed = ZERO
    take(r, before, out)
  }))

const commands = fc.commands([
  addGrantCmd, addGrantCmd, deductCmd, deductCmd, deductCmd, holdCmd, holdCmd, releaseCmd, releaseCmd, settleCmd, settleCmd,
  voidCmd, refundCmd, refundCmd, renewCmd, renewCmd, renewCmd, advanceCmd, settleOverageCmd,
], { maxCommands: 80, size: 'max' })

describe('credit ledger against a model', () => {
  it('keeps every invariant and the model\'s figures after every command', () => {
    fc.assert(
      fc.property(commands, (cmds) => {
        const setup = () => ({
          model: new Model(),
          real: { state: advance(emptyCredits(), T0).state, entries: [], snapshots: [], checked: 0 } as Real,
        })
        fc.modelRun(setup, cmds)
      }),
      { numRuns: 250 },
    )
  })
})

// The billing model check (issue #8): random configurations, customers and traffic through the
// HTTP API of an app over a real SQLite file, with a ManualClock; then every invoice is held to an
// independent reference (test/support/reference-billing.ts) fed with the raw events the test sent:
//  1. total = exact sum of the lines; every amount has exactly the currency's minor digits;
//  2. per closed period, charge, phase and dimension value, usage + adjustment lines sum to the
//     reference's rounded amount over the final active events;
//  3. a second billing run at the same `until` changes no invoice;
//  4. each usage line (and its `/lines/:id/events`) is what the reference rates from the events
//     active when the invoice was computed; adjustment lines name only late or corrected events;
//  5. `verify()` finds the rollups equal to a rebuild from raw events;
//  6. flat fees: the plan's amount, or prorations by the millisecond on changes and cancels;
//  7. usage priced in credits (no grants, so every credit is overage): lines carry the exact
//     credits and no money; a final invoice's overage line is its credits at creditPrice, rounded
//     once, and the ledger settles exactly that, naming the invoice; while no event of a final
//     period was changed late, each period's overage is the credits of its own usage, and once
//     every period is closed nothing is owed.
// Seeded: `MK_CHAOS_SEED` (and `MK_CHAOS_PATH`) replay a failure; `MK_CHAOS_RUNS` or
// `MK_CHAOS_LONG=1` run more scenarios.
import fc from 'fast-check'
import { existsSync } from 'node:fs'
import { afterAll, expect, it } from 'vitest'
import { type TestApp, testApp } from '../../collector/src/testing.js'
import { BillingModel, type ModelSub, segments } from '../support/billing-model.js'
import { type AtSpec, EVENT_NAMES, PERIOD_MS, type Scenario, type Step, type When, build, scenario } from '../support/billing-scenario.js'
import { CHAOS_LONG } from '../support/chaos.js'
import { type Fx, MINOR_DIGITS, fx, fxMul, fxText, naturalPeriod, roundTo } from '../support/reference-billing.js'

const LATENESS_MS = 35 * 86_400_000
/** The check is about invoices, not durability: a RAM-backed folder, where there is one, keeps fsyncs cheap. */
const TMP_ROOT = existsSync('/dev/shm') ? '/dev/shm' : undefined
const envInt = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined)
const RUNS = envInt('MK_CHAOS_RUNS') ?? (CHAOS_LONG ? 1500 : 80)
const SEED = envInt('MK_CHAOS_SEED') ?? (process.env.MK_CHAOS_RUNS || CHAOS_LONG ? Date.now() % 2 ** 31 : 8008)
const PATH = process.env.MK_CHAOS_PATH
const TIMEOUT_MS = (RUNS * 2 + 240) * 1000

const stats = {
  scenarios: 0, customers: 0, events: 0, imported: 0, resent: 0, late: 0, voids: 0, amends: 0, runs: 0,
  changes: 0, changesAtInvoicedBoundary: 0, cancels: 0, refused: 0, invoices: 0, lines: 0, adjustments: 0, adjustmentInvoices: 0, lineEventLookups: 0, periods: 0, wholeFlat: 0,
  creditScenarios: 0, overageLines: 0, overagePeriodsChecked: 0,
}
const started = performance.now()
afterAll(() => {
  const s = stats
  console.log(`[chaos billing-model] seed ${SEED}${PATH ? ` path ${PATH}` : ''}: ${s.scenarios} scenarios, ${s.customers} customers, ` +
    `${s.events} events (${s.imported} imported, ${s.late} late into invoiced periods, ${s.resent} resent), ${s.voids} voids, ${s.amends} amends, ` +
    `${s.runs} billing runs, ${s.changes} plan changes (${s.changesAtInvoicedBoundary} at an invoiced boundary), ${s.cancels} cancels, ${s.refused} refused; ` +
    `${s.invoices} invoices, ${s.lines} lines (${s.adjustments} adjustments; ${s.adjustmentInvoices} adjustment invoices after an end), ${s.lineEventLookups} line event lists, ` +
    `${s.periods} closed periods (${s.wholeFlat} flat fees whole); ${s.creditScenarios} scenarios in credits, ${s.overageLines} overage lines ` +
    `(${s.overagePeriodsChecked} periods' overage against their usage); ${((performance.now() - started) / 1000).toFixed(1)} s`)
})

const iso = (ms: number) => new Date(ms).toISOString()

/** Drives one scenario through the API while the model records it; then checks every invoice. */
async function play(s: Scenario): Promise<void> {
  const built = build(s)
  const period = PERIOD_MS[s.interval]
  const model = new BillingModel(s, built)
  const t = await testApp({ tmpRoot: TMP_ROOT })
  try {
    t.clock.set(s.startMs)
    expect((await t.json('PUT', '/v1/config', built.config)).status).toBe(200)
    for (const [i, c] of s.customers.entries()) {
      const customer = `cus_${i}`
      expect((await t.json('POST', '/v1/customers', { id: customer, timezone: c.timeZone })).status).toBe(201)
      let startMs = Math.floor(s.startMs - c.startFrac * 2.5 * period)
      if (c.snap) startMs = naturalPeriod({ interval: s.interval, anchor: 'calendar', timeZone: c.timeZone, anchorMs: 0 }, startMs).startMs
      const plan = c.plan % s.plans.length
      const res = await t.json('POST', '/v1/subscriptions', { id: `sub_${i}`, customerId: customer, plan: `p${plan}`, startAt: iso(startMs) })
      expect(res.status, JSON.stringify(res.body)).toBe(201)
      model.addSubscription(`sub_${i}`, customer, c.timeZone, startMs, plan)
    }
    stats.customers += s.customers.length
    for (const step of s.steps) {
      t.clock.advance(Math.floor(step.advance * period))
      await perform(t, model, step)
    }
    // Close every open period, then check.
    const now = t.clock.now()
    const ends = model.subs.map((sub) => model.boundaryAfter(sub, sub.timeline, Math.max(now, sub.billedThrough ?? sub.timeline.startMs)) ?? 0)
    const until = Math.max(now, ...ends) + built.graceMs + Math.floor(s.tail * period)
    t.clock.set(until)
    await billingRun(t, model, until)
    await check(t, model)
    const verify = await t.store.verify()
    expect(verify.differences).toEqual([])
    stats.scenarios++
    if (built.creditPrice !== undefined) stats.creditScenarios++
  } finally {
    await t.close()
  }
}

async function perform(t: TestApp, model: BillingModel, step: Step): Promise<void> {
  const now = t.clock.now()
  const subOf = (n: number) => model.subs[n % model.subs.length]!
  switch (step.kind) {
    case 'events': {
      const live: Record<string, unknown>[] = []
      const imported: Record<string, unknown>[] = []
      const at = ++model.tick
      for (const e of step.events) {
        const sub = subOf(e.customer)
        const ts = Math.min(now, timestampOf(model, sub, e.when, now))
        const payload = { id: `ev${model.events.size + 1}`, event: EVENT_NAMES[e.name], customerId: sub.customer, timestamp: iso(ts), properties: e.properties }
        model.events.set(payload.id, { id: payload.id, name: payload.event, customer: sub.customer, ts, storedAt: at, versions: [{ at, properties: e.properties }], payload })
        ;(e.viaImport || ts < now - LATENESS_MS + 60_000 ? imported : live).push(payload)
        if (sub.billedThrough !== null && ts >= sub.timeline.startMs && ts < sub.billedThrough) {
          stats.late++
          sub.lateChangeAt ??= at
        }
      }
      if (step.resend !== undefined) {
        const untouched = [...model.events.values()].filter((e) => e.versions.length === 1 && e.storedAt < at)
        const again = untouched[Math.floor(step.resend * untouched.length)]
        if (again !== undefined) {
          ;(again.ts < now - LATENESS_MS + 60_000 ? imported : live).push(again.payload)
          stats.resent++
        }
      }
      if (live.length > 0) {
        const res = await t.json('POST', '/v1/events', { events: live })
        expect(res.status, JSON.stringify(res.body)).toBe(200)
        expect(res.body.rejected + res.body.conflicts, JSON.stringify(res.body)).toBe(0)
      }
      if (imported.length > 0) {
        const res = await t.request('POST', '/v1/events/import', imported.map((e) => JSON.stringify(e)).join('\n'), { 'content-type': 'application/x-ndjson' })
        const body = (await res.json()) as { rejected: number; conflicts: number; accepted: number }
        expect(res.status, JSON.stringify(body)).toBe(200)
        expect(body.rejected + body.conflicts, JSON.stringify(body)).toBe(0)
      }
      stats.events += step.events.length
      stats.imported += imported.length
      return
    }
    case 'void':
    case 'amend': {
      const active = [...model.events.values()].filter((e) => e.versions.at(-1)!.properties !== null)
      const e = active[Math.floor(step.pick * active.length)]
      if (e === undefined) return
      const at = ++model.tick
      const owner = model.subs.find((x) => x.customer === e.customer)!
      if (owner.billedThrough !== null && e.ts < owner.billedThrough) owner.lateChangeAt ??= at
      if (step.kind === 'void') {
        expect((await t.json('POST', `/v1/events/${e.id}/void`, { reason: 'model check' })).status).toBe(200)
        e.versions.push({ at, properties: null })
        stats.voids++
      } else {
        expect((await t.json('POST', `/v1/events/${e.id}/amend`, { properties: step.properties, reason: 'model check' })).status).toBe(200)
        e.versions.push({ at, properties: step.properties })
        stats.amends++
      }
      return
    }
    case 'run': {
      const until = now - Math.floor(step.lag * 2 * model.built.graceMs)
      await billingRun(t, model, until)
      return
    }
    case 'change':
    case 'cancel': {
      const sub = subOf(step.customer)
      const earliest = model.earliestChange(sub, now)
      const atMs = resolveAt(step.at, model, sub, earliest, now)
      const end = sub.timeline.endMs
      // A cancel must fall after the last invoiced boundary (0005): the invoice there billed the
      // period ahead, and only a later invoice can credit it.
      const allowed = atMs >= earliest && (end === null || atMs < end)
        && (step.kind === 'change' || atMs > (sub.billedThrough ?? sub.timeline.startMs))
      const body = step.kind === 'change' ? { plan: `p${step.plan % model.built.plans.length}` } : {}
      const res = await t.json('POST', `/v1/subscriptions/${sub.id}/${step.kind}`, step.at.kind === 'default' ? body : { ...body, at: iso(atMs) })
      expect(res.status, `${step.kind} at ${iso(atMs)} (earliest ${iso(earliest)}): ${JSON.stringify(res.body)}`).toBe(allowed ? 200 : 400)
      if (!allowed) {
        stats.refused++
        return
      }
      if (step.kind === 'change') {
        if (atMs === sub.billedThrough) stats.changesAtInvoicedBoundary++
        model.change(sub, step.plan % model.built.plans.length, atMs)
        stats.changes++
      } else {
        model.cancel(sub, atMs)
        stats.cancels++
      }
      return
    }
  }
}

function timestampOf(model: BillingModel, sub: ModelSub, when: When, now: number): number {
  const period = PERIOD_MS[model.scenario.interval]
  switch (when.kind) {
    case 'recent':
      return now - Math.floor(when.frac * Math.min(LATENESS_MS - 3_600_000, 1.5 * period))
    case 'old': {
      const first = Math.min(...model.subs.map((s) => s.timeline.startMs)) - 0.3 * period
      return Math.floor(first + when.frac * (now - first))
    }
    case 'invoiced': {
      const start = sub.timeline.startMs
      const end = sub.billedThrough ?? start
      return end > start ? Math.floor(start + when.frac * (end - start)) : now
    }
    case 'boundary': {
      const list = model.boundaries(sub, now)
      return list[Math.max(0, list.length - 1 - when.back)]! + when.deltaMs
    }
  }
}

function resolveAt(at: AtSpec, model: BillingModel, sub: ModelSub, earliest: number, now: number): number {
  const period = PERIOD_MS[model.scenario.interval]
  switch (at.kind) {
    case 'default': return now
    case 'earliest': return earliest
    case 'inside': return earliest + Math.floor(at.frac * Math.max(0, now + period / 2 - earliest))
    case 'boundary': return naturalPeriod(sub.rule, Math.max(earliest, now)).endMs
    case 'too-early': return earliest - 1 - Math.floor(at.frac * period)
  }
}

/** A run at `until`, then the same run again: the second changes no invoice. */
async function billingRun(t: TestApp, model: BillingModel, until: number): Promise<void> {
  const at = ++model.tick
  const res = await t.json('POST', '/v1/billing/run', { until: iso(until) })
  expect(res.status).toBe(200)
  const expected = model.run(until, at)
  expect({ finalized: res.body.finalized.length, drafts: res.body.drafts.length }).toEqual(expected)
  stats.runs++
  const before = await t.json('GET', '/v1/invoices?limit=1000')
  expect((await t.json('POST', '/v1/billing/run', { until: iso(until) })).body.finalized).toEqual([])
  expect((await t.json('GET', '/v1/invoices?limit=1000')).body).toEqual(before.body)
  for (const sub of model.subs) {
    const s = await t.json('GET', `/v1/subscriptions/${sub.id}`)
    expect(s.body.billedThrough).toBe(sub.billedThrough === null ? null : iso(sub.billedThrough))
  }
}

interface LineJson { id: string; chargeKey: string; kind: string; quantity: string; amount: string; credits?: string; periodStart: string; periodEnd: string; dimension?: unknown; eventCount: number }
interface InvoiceJson { id: string; status: string; periodStart: string; periodEnd: string; currency: string; subtotal: string; total: string; lines: LineJson[] }

const dimensionKey = (l: LineJson) => ('dimension' in l ? JSON.stringify(l.dimension) : '')
const ms = (text: string) => Date.parse(text)

async function lineEventIds(t: TestApp, invoice: string, line: string): Promise<string[]> {
  const res = await t.json('GET', `/v1/invoices/${invoice}/lines/${line}/events?limit=1000`)
  expect(res.status).toBe(200)
  expect(res.body.nextCursor).toBeNull()
  stats.lineEventLookups++
  return (res.body.data as { id: string }[]).map((e) => e.id).sort()
}

interface EntryJson { type: string; credits: string; grantId?: string; invoiceId?: string }

async function ledgerOf(t: TestApp, customer: string): Promise<EntryJson[]> {
  const out: EntryJson[] = []
  let cursor: string | null = null
  do {
    const res = await t.json('GET', `/v1/customers/${customer}/ledger?limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`)
    expect(res.status).toBe(200)
    out.push(...(res.body.data as EntryJson[]))
    cursor = res.body.nextCursor as string | null
  } while (cursor !== null)
  return out
}

async function check(t: TestApp, model: BillingModel): Promise<void> {
  const currency = model.scenario.currency
  const digits = MINOR_DIGITS[currency]!
  const moneyPattern = digits === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${digits}}$`)
  const money = (x: Fx) => fxText(roundTo(x, digits))
  const creditPrice = model.built.creditPrice
  const inCredits = creditPrice !== undefined
  // Usage priced in credits shows its credits, exact, and no money.
  const shown = (l: LineJson) => (inCredits ? [fxText(fx(l.amount)), l.credits ?? '0'] : [fxText(fx(l.amount))])
  const priced = (x: Fx) => (inCredits ? ['0', fxText(x)] : [money(x)])
  const value = (l: LineJson) => (inCredits ? fx(l.credits ?? '0') : fx(l.amount))
  for (const sub of model.subs) {
    /** Final invoices' overage lines, by invoice id: what the ledger must have settled. */
    const overageOf = new Map<string, string>()
    const res = await t.json('GET', `/v1/invoices?customerId=${sub.customer}&limit=1000`)
    const invoices = (res.body.data as InvoiceJson[]).reverse()
    const records = [...sub.records.values()].filter((r) => r.exists).sort((a, b) => a.boundary - b.boundary)
    expect(invoices.map((i) => [i.periodStart, i.periodEnd])).toEqual(records.map((r) =>
      [iso(r.prev ?? r.boundary), iso(r.prev === null ? model.boundaryAfter(sub, r.timeline, r.boundary)! : r.boundary)]))
    const actualSums = new Map<string, Fx>()
    for (const [i, inv] of invoices.entries()) {
      const rec = records[i]!
      const where = `${sub.id} invoice ${i} (${inv.periodStart} – ${inv.periodEnd})`
      stats.invoices++
      stats.lines += inv.lines.length
      // 1. The total is the exact sum of the rounded lines, each with the currency's minor digits.
      expect(inv.currency).toBe(currency)
      for (const text of [inv.total, inv.subtotal, ...inv.lines.map((l) => l.amount)]) expect(text, where).toMatch(moneyPattern)
      const sum = inv.lines.reduce((a, l) => a + fx(l.amount), 0n)
      expect(fx(inv.total), where).toBe(sum)
      expect(inv.subtotal).toBe(inv.total)
      expect(inv.status, where).toBe(!rec.final ? 'draft' : sum <= 0n ? 'paid' : 'finalized')
      // 6. Flat fees, whole or prorated, as the reference works them out.
      const flat = (list: { chargeKey: string; kind: string; startMs: number; endMs: number; amount: string }[]) =>
        list.map((l) => `${l.chargeKey} ${l.kind} ${iso(l.startMs)} ${iso(l.endMs)} ${l.amount}`).sort()
      expect(flat(inv.lines.filter((l) => l.kind === 'flat' || l.kind === 'proration')
        .map((l) => ({ ...l, startMs: ms(l.periodStart), endMs: ms(l.periodEnd), amount: fxText(fx(l.amount)) }))), `${where}: flat fees`)
        .toEqual(flat(model.flatLines(sub, rec).map((l) => ({ ...l, amount: money(l.amount) }))))
      if (rec.prev === null) continue
      if (rec.adjustmentOnly) stats.adjustmentInvoices++
      if (rec.adjustmentOnly) expect(inv.lines.filter((l) => l.kind !== 'adjustment'), `${where}: an adjustment invoice holds adjustments only`).toEqual([])
      // 4. Usage lines: what the reference rates from the events active when the invoice was computed.
      const expected = model.usageLines(sub, rec.timeline, rec.prev, rec.boundary, rec.at)
      const usageLines = inv.lines.filter((l) => l.kind === 'usage')
      expect(usageLines.map((l) => [l.chargeKey, dimensionKey(l), l.periodStart, l.periodEnd, l.quantity, ...shown(l)]), `${where}: usage lines`)
        .toEqual(expected.map((e) => [e.chargeKey, e.line.dimension ?? '', iso(e.startMs), iso(e.endMs), fxText(e.line.quantity), ...priced(e.line.amount)]))
      // 7. Overage: at most one line, its credits at creditPrice rounded once, for the invoice's period.
      const overage = inv.lines.filter((l) => l.kind === 'overage')
      if (!inCredits || rec.adjustmentOnly) expect(overage, `${where}: overage`).toEqual([])
      expect(overage.length, `${where}: overage lines`).toBeLessThanOrEqual(1)
      for (const l of overage) {
        stats.overageLines++
        expect(fx(l.quantity) > 0n, `${where}: overage ${l.quantity}`).toBe(true)
        expect(fxText(fx(l.amount)), `${where}: overage amount`).toBe(money(fxMul(fx(l.quantity), fx(creditPrice!))))
        expect([l.periodStart, l.periodEnd], `${where}: overage period`).toEqual([inv.periodStart, inv.periodEnd])
      }
      if (rec.final) overageOf.set(inv.id, overage[0]?.quantity ?? '0')
      // With no grants every credit is overage: while no event of a final period has changed late,
      // a final invoice's overage is exactly the credits of its own period's usage.
      if (inCredits && rec.final && !rec.adjustmentOnly && (sub.lateChangeAt === undefined || rec.at < sub.lateChangeAt)) {
        const credits = expected.reduce((a, e) => a + e.line.amount, 0n)
        expect(fxText(fx(overage[0]?.quantity ?? '0')), `${where}: overage = the period's credits`).toBe(fxText(credits))
        stats.overagePeriodsChecked++
      }
      for (const [j, line] of usageLines.entries()) {
        const ids = expected[j]!.events.map((e) => e.id).sort()
        expect(await lineEventIds(t, inv.id, line.id), `${where}: events of ${line.id}`).toEqual(ids)
        expect(line.eventCount).toBe(ids.length)
      }
      for (const line of inv.lines.filter((l) => l.kind === 'adjustment')) {
        stats.adjustments++
        // The period it corrects was closed by a final invoice computed before this one; the
        // events it names are the customer's events of that span stored or corrected since.
        const from = ms(line.periodStart)
        const to = ms(line.periodEnd)
        const closed = [...sub.records.values()].find((r) => r.final && r.prev !== null && r.prev <= from && to <= r.boundary && r.at < rec.at)
        expect(closed, `${where}: ${line.id} corrects a closed period`).toBeDefined()
        const changed = (e: { storedAt: number; versions: { at: number }[] }) =>
          (e.storedAt >= closed!.at && e.storedAt < rec.at) || e.versions.slice(1).some((v) => v.at >= closed!.at && v.at < rec.at)
        const candidates = new Set([...model.events.values()].filter((e) => e.customer === sub.customer && e.ts >= from && e.ts < to && changed(e)).map((e) => e.id))
        const ids = await lineEventIds(t, inv.id, line.id)
        expect(ids.length, `${where}: ${line.id} names its events`).toBeGreaterThan(0)
        expect(ids.filter((id) => !candidates.has(id)), `${where}: ${line.id} names only late or corrected events`).toEqual([])
      }
      if (rec.final) {
        for (const l of inv.lines.filter((x) => x.kind === 'usage' || x.kind === 'adjustment')) {
          if (inCredits) expect(fx(l.amount), `${where}: ${l.id} in credits has no money`).toBe(0n)
          const key = `${l.chargeKey} ${dimensionKey(l)} ${l.periodStart} ${l.periodEnd}`
          actualSums.set(key, (actualSums.get(key) ?? 0n) + value(l))
        }
      }
    }
    // 2. Per closed period: usage and adjustments sum to the reference over the final events
    // (final as far as a later invoice of the subscription could take them in).
    const expectedSums = new Map<string, Fx>()
    for (const rec of records.filter((r) => r.final && r.prev !== null && !r.adjustmentOnly)) {
      stats.periods++
      for (const e of model.usageLines(sub, sub.timeline, rec.prev!, rec.boundary, sub.lastClosingAt!)) {
        const key = `${e.chargeKey} ${e.line.dimension ?? ''} ${iso(e.startMs)} ${iso(e.endMs)}`
        expectedSums.set(key, inCredits ? e.line.amount : roundTo(e.line.amount, digits))
      }
      if (segments(sub.timeline, rec.prev!, rec.boundary).length === 1 && naturalPeriod(sub.rule, rec.prev!).startMs === rec.prev
        && naturalPeriod(sub.rule, rec.prev!).endMs === rec.boundary) stats.wholeFlat++
    }
    const keys = [...new Set([...expectedSums.keys(), ...actualSums.keys()])].sort()
    expect(keys.map((k) => [k, fxText(actualSums.get(k) ?? 0n)]), `${sub.id}: usage and adjustments per closed period`)
      .toEqual(keys.map((k) => [k, fxText(expectedSums.get(k) ?? 0n)]))
    if (!inCredits) continue
    // 7. The ledger settled each final invoice's overage, naming it, and nothing else.
    const ledger = await ledgerOf(t, sub.customer)
    const settled = new Map<string, string>()
    for (const e of ledger.filter((x) => x.type === 'overage_settled')) {
      expect(settled.has(e.invoiceId!), `${sub.id}: ${e.invoiceId} settled once`).toBe(false)
      settled.set(e.invoiceId!, e.credits)
    }
    expect([...settled].sort(), `${sub.id}: overage settled per invoice`)
      .toEqual([...overageOf].filter(([, q]) => fx(q) > 0n).sort())
    // Every period is closed: with no late change, nothing is left owed.
    if (sub.lateChangeAt === undefined) {
      const owed = ledger.filter((e) => (e.type === 'deduction' && e.grantId === undefined) || e.type === 'overage_settled')
        .reduce((a, e) => a - fx(e.credits), 0n)
      expect(fxText(owed), `${sub.id}: credits owed after every period closed`).toBe('0')
    }
  }
}

it(`invoices equal an independent reference over random plans and traffic (${RUNS} runs)`, async () => {
  const result = await fc.check(fc.asyncProperty(scenario, async (s) => {
    await play(s)
  }), {
    seed: SEED, numRuns: RUNS, ...(PATH ? { path: PATH } : {}),
    endOnFailure: PATH !== undefined || process.env.MK_CHAOS_NO_SHRINK === '1',
    // Shrinking replays whole scenarios: bound it, and report the smallest failure found by then.
    interruptAfterTimeLimit: TIMEOUT_MS - 30_000, markInterruptAsFailure: true,
  })
  if (result.failed) {
    const replay = `[chaos billing-model] failed with seed ${result.seed} path ${result.counterexamplePath}; ` +
      `replay: MK_CHAOS_SEED=${result.seed} MK_CHAOS_PATH=${result.counterexamplePath} npx vitest run test/chaos/billing-model.test.ts`
    console.error(replay)
    // The assertion's own error, so that the runner shows its diff, with the replay line first.
    const err = result.errorInstance instanceof Error ? result.errorInstance : new Error(String(result.errorInstance))
    err.message = `${replay}\n${fc.defaultReportMessage(result)}\n${err.message}`
    throw err
  }
}, TIMEOUT_MS)


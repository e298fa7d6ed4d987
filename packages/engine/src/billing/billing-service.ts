// Billing over the storage port: subscriptions, billing runs, invoices, payments, previews,
// entitlements and simulations. Each invoice is computed and written in one write transaction
// together with the subscription's progress, so a crash leaves either the whole invoice or none.
import { randomBytes } from 'node:crypto'
import type { PlanConfig, Properties } from '@meterkit/protocol'
import { ZERO, decimal } from '../decimal.js'
import { formatMoney, minorUnits, roundMoney } from '../rating/index.js'
import { contextAt } from '../credits/plan-context.js'
import type { Page } from '../store/port.js'
import type { Storage, Tx } from '../store/storage.js'
import { readUsage } from '../meters/usage-reading.js'
import type { CreditsService } from '../credits/credits-service.js'
import { decodeCursor, encodeCursor } from '../store/cursor.js'
import { invoiceFinalizedData } from '../webhooks/payloads.js'
import { reconcileCredits } from './credit-close.js'
import { getInvoiceView, invoiceView, linePosition } from './invoice-view.js'
import { noteCorrection, scanLateEvents } from './late-events.js'
import { type InvoiceLine, adjustmentLines, closingLines, openingLines, totals, usageLines } from './lines.js'
import type { BillingResult, BillingRunResult, BillingStore, Entitlement, Invoice, Quote, SimulationRow, SubscribeInput, Subscription } from './model.js'
import { periodsBetween } from './periods.js'
import { gracePeriodMs, planWithMeters } from './plans.js'
import { quote } from './quote.js'
import type { InvoiceHeader, InvoiceRecord } from './storage.js'
import { type LoadedSubscription, customerSubscriptions, loadSubscription, periodStartAt, subscriptionView } from './subscriptions.js'
import { type Phase, type Segment, type Timeline, boundaryAfter, phaseAt, ruleOf, samePeriods, segments } from './timeline.js'
import { BillingUsage } from './usage-source.js'

/** A transaction holds the write lock for about this long, so ingest waits no longer. */
const RUN_SLICE_MS = 50

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`
const fail = (code: 'not_found' | 'invalid' | 'conflict', message: string) => ({ ok: false as const, code, message })

export interface BillingServiceDeps {
  storage: Storage
  /** The credit ledger: overage, and the credits of credit-priced charges at a period's close. */
  credits: CreditsService
}

export class BillingService implements BillingStore {
  private readonly storage: Storage

  constructor(private readonly deps: BillingServiceDeps) {
    this.storage = deps.storage
  }

  async billedTenants(): Promise<number[]> {
    return this.storage.transaction('read', async (tx) => tx.subscriptions.tenants())
  }

  // ---- subscriptions ----

  private async load(tx: Tx, tenantId: number, id: string): Promise<LoadedSubscription | undefined> {
    const record = await tx.subscriptions.get(tenantId, id)
    return record && loadSubscription(tx, tenantId, record)
  }

  async subscribe(tenantId: number, input: SubscribeInput, nowMs: number): Promise<BillingResult<{ subscription: Subscription; created: boolean }>> {
    return this.storage.transaction('write', async (tx): Promise<BillingResult<{ subscription: Subscription; created: boolean }>> => {
      const { version, config } = await tx.configs.current(tenantId)
      const plan = config.plans.find((p) => p.key === input.plan)
      if (plan === undefined) return fail('invalid', `plan: no plan "${input.plan}" in configuration version ${version}`)
      const found = planWithMeters(config, plan)
      if ('error' in found) return fail('invalid', found.error)
      if (input.id !== undefined) {
        const existing = await this.load(tx, tenantId, input.id)
        if (existing !== undefined) {
          const r = existing.record
          const same = r.customerId === input.customerId && r.startMs === input.startMs && existing.timeline.phases[0]?.plan.key === input.plan
          if (!same) return fail('conflict', `id: subscription "${input.id}" exists with other terms`)
          return { ok: true, value: { subscription: subscriptionView(existing, nowMs), created: false } }
        }
      }
      const id = input.id ?? newId('sub')
      await tx.customers.ensure(tenantId, input.customerId, nowMs)
      await tx.subscriptions.insert(tenantId, { id, customerId: input.customerId, startMs: input.startMs }, nowMs)
      await tx.subscriptions.putPhase(tenantId, id, { startMs: input.startMs, plan, meters: found.meters, anchorMs: input.startMs }, version)
      return { ok: true, value: { subscription: subscriptionView((await this.load(tx, tenantId, id))!, nowMs), created: true } }
    })
  }

  async getSubscription(tenantId: number, id: string, nowMs: number): Promise<Subscription | undefined> {
    return this.storage.transaction('read', async (tx) => {
      const s = await this.load(tx, tenantId, id)
      return s && subscriptionView(s, nowMs)
    })
  }

  async listSubscriptions(tenantId: number, customerId: string, nowMs: number): Promise<Subscription[]> {
    return this.storage.transaction('read', async (tx) => (await customerSubscriptions(tx, tenantId, customerId)).map((s) => subscriptionView(s, nowMs)))
  }

  /** The earliest instant a change or cancel may take effect: inside the current period, never in an invoiced one. */
  private earliestChange(s: LoadedSubscription, nowMs: number): number {
    const t = s.timeline
    const current = nowMs < t.startMs ? t.startMs : periodStartAt(t, Math.min(nowMs, (t.endMs ?? Number.POSITIVE_INFINITY) - 1))
    return Math.max(current, s.record.billedThroughMs ?? t.startMs)
  }

  private async editable(tx: Tx, tenantId: number, id: string, atMs: number, nowMs: number): Promise<BillingResult<LoadedSubscription>> {
    const s = await this.load(tx, tenantId, id)
    if (s === undefined) return fail('not_found', 'no subscription with this id')
    if (s.timeline.endMs !== null && atMs >= s.timeline.endMs) return fail('invalid', `at: the subscription ends at ${new Date(s.timeline.endMs).toISOString()}`)
    const earliest = this.earliestChange(s, nowMs)
    if (atMs < earliest) return fail('invalid', `at: must not be before the current period's start (${new Date(earliest).toISOString()})`)
    return { ok: true, value: s }
  }

  async changePlan(tenantId: number, id: string, planKey: string, atMs: number, nowMs: number): Promise<BillingResult<Subscription>> {
    return this.storage.transaction('write', async (tx): Promise<BillingResult<Subscription>> => {
      const found = await this.editable(tx, tenantId, id, atMs, nowMs)
      if (!found.ok) return found
      const { version, config } = await tx.configs.current(tenantId)
      const plan = config.plans.find((p) => p.key === planKey)
      if (plan === undefined) return fail('invalid', `plan: no plan "${planKey}" in configuration version ${version}`)
      const withMeters = planWithMeters(config, plan)
      if ('error' in withMeters) return fail('invalid', withMeters.error)
      const current = phaseAt(found.value.timeline, atMs)
      if (current.plan.currency !== plan.currency) return fail('invalid', `plan: must be priced in ${current.plan.currency}, the subscription's currency`)
      const anchorMs = samePeriods(current.plan, plan) ? current.anchorMs : atMs
      // At a boundary whose invoice is final, the period ahead was billed under the current plan.
      const replacesBilled = atMs === found.value.record.billedThroughMs
      await tx.subscriptions.putPhase(tenantId, id, { startMs: atMs, plan, meters: withMeters.meters, anchorMs, ...(replacesBilled ? { replacesBilled } : {}) }, version)
      return { ok: true, value: subscriptionView((await this.load(tx, tenantId, id))!, nowMs) }
    })
  }

  async cancel(tenantId: number, id: string, atMs: number, nowMs: number): Promise<BillingResult<Subscription>> {
    return this.storage.transaction('write', async (tx): Promise<BillingResult<Subscription>> => {
      const found = await this.editable(tx, tenantId, id, atMs, nowMs)
      if (!found.ok) return found
      if (atMs <= found.value.timeline.startMs) return fail('invalid', 'at: must be after the subscription starts')
      // The invoice at the last invoiced boundary billed the period ahead; only a later invoice can credit it.
      const billed = found.value.record.billedThroughMs
      if (billed !== null && atMs <= billed) return fail('invalid', `at: must be after ${new Date(billed).toISOString()}, the start of a period already invoiced`)
      await tx.subscriptions.end(tenantId, id, atMs)
      return { ok: true, value: subscriptionView((await this.load(tx, tenantId, id))!, nowMs) }
    })
  }

  // ---- billing runs ----

  async run(tenantId: number, untilMs: number, nowMs: number): Promise<BillingRunResult> {
    // Every credit-priced event stored so far is deducted before periods close on them.
    await this.deps.credits.catchUp()
    const { ids, graceMs } = await this.storage.transaction('write', async (tx) => {
      await scanLateEvents(tx, await tx.events.maxSeq())
      const graceMs = gracePeriodMs((await tx.configs.current(tenantId)).config)
      return { graceMs, ids: (await tx.subscriptions.all(tenantId)).map((r) => r.id) }
    })
    const result: BillingRunResult = { finalized: [], drafts: [], adjustments: 0 }
    // Several subscriptions per transaction: a commit (an fsync) per invoice would bound a run of
    // 10,000 customers by the disk, not the work.
    let next = 0
    while (next < ids.length) {
      next = await this.storage.transaction('write', async (tx) => {
        const started = performance.now()
        let i = next
        while (i < ids.length && performance.now() - started < RUN_SLICE_MS) {
          while (await this.step(tx, tenantId, ids[i]!, untilMs, graceMs, nowMs, result));
          i++
        }
        return i
      })
    }
    return result
  }

  /** Issues the subscription's next invoice if it is due; true when there may be another. */
  private async step(tx: Tx, tenantId: number, id: string, untilMs: number, graceMs: number, nowMs: number, result: BillingRunResult): Promise<boolean> {
    const s = (await this.load(tx, tenantId, id))!
    const t = s.timeline
    const opening = s.record.billedThroughMs === null
    const b = opening ? t.startMs : boundaryAfter(t, s.record.billedThroughMs!)
    if (b === undefined) {
      await this.adjustEnded(tx, tenantId, s, untilMs, nowMs, result)
      return false
    }
    if (b > untilMs) return false
    const final = opening || b + graceMs <= untilMs
    // One cut through the events for the whole invoice: its lines, its credits and its cutoff
    // (later events of its periods are late events), deducted in real time up to the cut first.
    const cutSeq = await tx.events.maxSeq()
    if (final) await this.deps.credits.catchUpIn(tx, cutSeq)
    const invoice = await this.compute(tx, tenantId, s, b, final, false, cutSeq)
    if (invoice !== undefined) await this.issue(tx, tenantId, invoice, nowMs, result)
    if (!final) return false
    await tx.subscriptions.setBilledThrough(tenantId, id, b)
    return true
  }

  private async issue(tx: Tx, tenantId: number, invoice: { header: InvoiceHeader; lines: InvoiceLine[] }, nowMs: number, result: BillingRunResult): Promise<void> {
    const final = invoice.header.status !== 'draft'
    await tx.invoices.write(tenantId, invoice.header, invoice.lines, nowMs)
    // invoice.finalized commits with the invoice: a run that is interrupted or repeated sends it once.
    // The outbox adds the endpoints kept over the API to the configuration's.
    if (final) {
      const endpoints = (await tx.configs.current(tenantId)).config.webhooks ?? []
      await tx.outbox.enqueue(tenantId, endpoints, 'invoice.finalized', invoiceFinalizedData((await getInvoiceView(tx, tenantId, invoice.header.id))!), nowMs)
    }
    ;(final ? result.finalized : result.drafts).push(invoice.header.id)
    result.adjustments += invoice.lines.filter((l) => l.kind === 'adjustment').length
  }

  /**
   * A subscription billed through its end has no next invoice to carry adjustments: late or
   * corrected events that change its invoiced periods are invoiced on an adjustment invoice of
   * their own, dated at the run (a period of no length, after every other invoice of the
   * subscription), final at once since the grace period of the last period is over.
   */
  private async adjustEnded(tx: Tx, tenantId: number, s: LoadedSubscription, untilMs: number, nowMs: number, result: BillingRunResult): Promise<void> {
    const t = s.timeline
    if (t.endMs === null || s.record.billedThroughMs !== t.endMs) return
    if ((await tx.billingChanges.pending(tenantId, s.record.customerId, t.startMs, t.endMs)).length === 0) return
    const currency = phaseAt(t, t.endMs - 1).plan.currency
    const cut = await tx.events.maxSeq()
    const lines = await this.adjustments(tx, tenantId, s, currency, true, cut)
    if (lines.length === 0) return
    const latest = (await tx.invoices.finalClosing(tenantId, s.record.id)).reduce((m, inv) => Math.max(m, inv.boundaryMs), t.endMs)
    const b = Math.max(untilMs, latest + 1)
    const sums = totals(lines, currency)
    const header: InvoiceHeader = {
      id: newId('in'),
      customerId: s.record.customerId,
      subscriptionId: s.record.id,
      boundary: b,
      status: decimal(sums.total).lte(0) ? 'paid' : 'finalized',
      periodStartMs: b,
      periodEndMs: b,
      currency,
      ...sums,
      creditsApplied: '0',
      cutoffSeq: cut,
    }
    await this.issue(tx, tenantId, { header, lines }, nowMs, result)
  }

  /** The invoice at boundary b: closing [previous boundary, b) and opening the next period. */
  private async compute(tx: Tx, tenantId: number, s: LoadedSubscription, b: number, final: boolean, preview = false, cutSeq?: number) {
    const t = s.timeline
    const plan = phaseAt(t, Math.max(t.startMs, b - 1)).plan
    const currency = plan.currency
    const cut = cutSeq ?? await tx.events.maxSeq()
    const usage = new BillingUsage(tx, tenantId, s.record.customerId, t.timeZone, preview ? 'fast' : 'scanning', cut)
    const existing = await tx.invoices.atBoundary(tenantId, s.record.id, b)
    const id = existing?.id ?? newId('in')
    const lines: InvoiceLine[] = []
    const prev = s.record.billedThroughMs
    let periodStartMs = b
    let periodEndMs = boundaryAfter(t, b) ?? b
    if (prev !== null) {
      const billedAt = await tx.invoices.atBoundary(tenantId, s.record.id, prev)
      const billed = billedAt === undefined || billedAt.status === 'void' ? [] : await tx.invoices.lines(tenantId, billedAt.id)
      // The period's credits are final before its overage is invoiced.
      if (final && !preview) await reconcileCredits(tx, this.deps.credits, usage, tenantId, s, prev, b, { closing: true, reason: 'period close', atMs: b })
      await usage.load(segments(t, prev, b))
      lines.push(...closingLines(t, currency, prev, b, billed, usage.source))
      if (!preview) lines.push(...await this.adjustments(tx, tenantId, s, currency, final, cut))
      lines.push(...await this.creditLines(tx, tenantId, s, plan, id, b, final && !preview))
      periodStartMs = prev
      periodEndMs = b
    }
    lines.push(...openingLines(t, currency, b))
    if (prev === null && lines.length === 0) return undefined
    const sums = totals(lines, currency)
    const status = !final ? 'draft' : decimal(sums.total).lte(0) ? 'paid' : 'finalized'
    const creditsApplied = lines.reduce((a, l) => (l.kind === 'usage' && l.credits !== undefined ? a.plus(l.credits) : a), ZERO)
    const header: InvoiceHeader = {
      id,
      customerId: s.record.customerId,
      subscriptionId: s.record.id,
      boundary: b,
      status,
      periodStartMs,
      periodEndMs,
      currency,
      ...sums,
      creditsApplied: creditsApplied.toString(),
      cutoffSeq: cut,
    }
    return { header, lines }
  }

  /**
   * The overage (credits the period's usage took beyond the grants, and what earlier periods'
   * late events added since, at the plan's creditPrice) and the credits bought since the last
   * invoice. `settle`: the invoice is final, so the overage is settled in
   * the ledger and the purchases are marked as invoiced.
   */
  private async creditLines(tx: Tx, tenantId: number, s: LoadedSubscription, plan: PlanConfig, invoiceId: string, b: number, settle: boolean): Promise<InvoiceLine[]> {
    const lines: InvoiceLine[] = []
    const customerId = s.record.customerId
    if (plan.creditPrice !== undefined) {
      const owed = settle ? await this.deps.credits.settleOverage(tx, tenantId, customerId, invoiceId, b, b) : await this.deps.credits.overageDue(tx, tenantId, customerId, b)
      if (owed.gt(0)) {
        lines.push({
          chargeKey: 'overage', kind: 'overage', description: `Credits beyond the grants: ${owed.toString()} × ${plan.creditPrice}`,
          quantity: owed.toString(), amount: formatMoney(roundMoney(owed.times(plan.creditPrice), plan.currency), plan.currency),
          periodStartMs: s.record.billedThroughMs ?? b, periodEndMs: b,
        })
      }
    }
    for (const p of await tx.purchases.uninvoiced(tenantId, customerId)) {
      lines.push({
        chargeKey: 'top_up', kind: 'top_up', description: `Top-up: ${p.credits} credits`, quantity: p.credits,
        amount: formatMoney(decimal(p.amount), plan.currency), periodStartMs: p.atMs, periodEndMs: p.atMs,
      })
      if (settle) await tx.purchases.markInvoiced(tenantId, customerId, p.grantId, invoiceId)
    }
    return lines
  }

  /** A void or amend of an event already charged: its credit-priced charges are recounted and the difference deducted or refunded. */
  async correctCredits(tx: Tx, tenantId: number, event: { id: string; customerId: string; ts: number; seq: number }, nowMs: number): Promise<void> {
    if (event.seq > await this.deps.credits.watermark(tx)) return // not charged yet: the fold sees the corrected event
    for (const s of await customerSubscriptions(tx, tenantId, event.customerId)) {
      const t = s.timeline
      if (event.ts < t.startMs || (t.endMs !== null && event.ts >= t.endMs)) continue
      const from = periodStartAt(t, event.ts)
      const to = boundaryAfter(t, event.ts) ?? event.ts + 1
      const usage = new BillingUsage(tx, tenantId, event.customerId, t.timeZone, 'scanning')
      await reconcileCredits(tx, this.deps.credits, usage, tenantId, s, from, to, {
        closing: false, reason: 'event corrected', atMs: nowMs, eventIds: [event.id],
        only: (seg) => event.ts >= seg.fromMs && event.ts < seg.toMs,
      })
    }
  }

  /** A void or amend: the subscription's next invoice adjusts an invoiced period it changes. */
  async noteCorrection(tx: Tx, tenantId: number, customerId: string, ts: number, seq: number): Promise<void> {
    await noteCorrection(tx, tenantId, customerId, ts, seq)
  }

  /** Adjustments for invoiced periods that late or corrected events changed since. */
  private async adjustments(tx: Tx, tenantId: number, s: LoadedSubscription, currency: string, consume: boolean, cutSeq?: number): Promise<InvoiceLine[]> {
    const customerId = s.record.customerId
    const changes = await tx.billingChanges.pending(tenantId, customerId, s.timeline.startMs, s.record.billedThroughMs!)
    if (changes.length === 0) return []
    const out: InvoiceLine[] = []
    const finalized = await tx.invoices.finalClosing(tenantId, s.record.id)
    const all: InvoiceLine[] = []
    for (const inv of finalized) all.push(...await tx.invoices.lines(tenantId, inv.id))
    const usage = new BillingUsage(tx, tenantId, customerId, s.timeline.timeZone, 'scanning', cutSeq)
    const changed = new Map(changes.map((c) => [c.seq, c.ts]))
    for (const inv of finalized) {
      if (!changes.some((c) => c.ts >= inv.periodStartMs && c.ts < inv.periodEndMs)) continue
      const segs = segments(s.timeline, inv.periodStartMs, inv.periodEndMs)
      await usage.load(segs)
      const recomputed = segs.flatMap((seg) => usageLines(seg, currency, usage.source))
      const billed = all.filter((l) => (l.kind === 'usage' || l.kind === 'adjustment') && l.periodStartMs >= inv.periodStartMs && l.periodEndMs <= inv.periodEndMs)
      out.push(...adjustmentLines(recomputed, billed, changed, currency))
    }
    if (consume) await tx.billingChanges.consume(tenantId, customerId, s.timeline.startMs, s.record.billedThroughMs!)
    return out
  }

  async upcoming(tenantId: number, customerId: string, nowMs: number): Promise<Invoice | undefined> {
    return this.storage.transaction('read', async (tx) => {
      let best: { s: LoadedSubscription; b: number } | undefined
      for (let s of await customerSubscriptions(tx, tenantId, customerId)) {
        const r = s.record
        // The open period's invoice, even before a billing run has caught up with the boundaries
        // behind it (a new subscription's opening invoice, a scheduler that has not run yet).
        if (nowMs >= s.timeline.startMs && (r.billedThroughMs === null || (boundaryAfter(s.timeline, r.billedThroughMs) ?? Infinity) <= nowMs)) {
          if (s.timeline.endMs !== null && nowMs >= s.timeline.endMs) continue
          s = { ...s, record: { ...r, billedThroughMs: periodStartAt(s.timeline, nowMs) } }
        }
        const b = s.record.billedThroughMs === null ? s.timeline.startMs : boundaryAfter(s.timeline, s.record.billedThroughMs)
        if (b !== undefined && (best === undefined || b < best.b)) best = { s, b }
      }
      if (best === undefined) return undefined
      const invoice = await this.compute(tx, tenantId, best.s, best.b, false, true)
      if (invoice === undefined) return undefined
      const view = await invoiceView(tx, tenantId, previewRecord(invoice.header, nowMs))
      const lines = invoice.lines.map(({ eventSeqs, advance: _advance, ...l }, i) => ({ ...l, id: `li_${i + 1}`, eventCount: eventSeqs?.length ?? 0 }))
      return { ...view, lines, amountDue: view.total }
    })
  }

  // ---- invoices ----

  async getInvoice(tenantId: number, id: string): Promise<Invoice | undefined> {
    return this.storage.transaction('read', (tx) => getInvoiceView(tx, tenantId, id))
  }

  async listInvoices(tenantId: number, q: { customerId?: string; cursor?: string; limit: number }): Promise<Page<Invoice>> {
    let after: [number, string] | undefined
    if (q.cursor !== undefined) {
      const key = decodeCursor(q.cursor)
      if (key === undefined || typeof key[0] !== 'number' || typeof key[1] !== 'string') throw new RangeError('cursor: not a cursor this list returned')
      after = [key[0], key[1]]
    }
    return this.storage.transaction('read', async (tx) => {
      const rows = await tx.invoices.list(tenantId, { ...(q.customerId !== undefined ? { customerId: q.customerId } : {}), ...(after ? { after } : {}), limit: q.limit + 1 })
      const more = rows.length > q.limit
      const page = more ? rows.slice(0, q.limit) : rows
      const last = page[page.length - 1]
      const data: Invoice[] = []
      for (const r of page) data.push(await invoiceView(tx, tenantId, r))
      return { data, nextCursor: more && last ? encodeCursor([last.boundaryMs, last.id]) : null }
    })
  }

  async lineEvents(tenantId: number, invoiceId: string, lineId: string, q: { cursor?: string; limit: number }): Promise<Page<{ id: string; timestampMs: number }> | undefined> {
    const position = linePosition(lineId)
    if (position === undefined) return undefined
    return this.storage.transaction('read', async (tx) => {
      const seqs = await tx.invoices.lineSeqs(tenantId, invoiceId, position)
      if (seqs === undefined) return undefined
      const start = q.cursor === undefined ? 0 : Number(decodeCursor(q.cursor)?.[0] ?? Number.NaN)
      if (!Number.isInteger(start) || start < 0) throw new RangeError('cursor: not a cursor this list returned')
      const data = await tx.events.bySeqs(seqs.slice(start, start + q.limit))
      return { data, nextCursor: start + q.limit < seqs.length ? encodeCursor([start + q.limit]) : null }
    })
  }

  async pay(tenantId: number, invoiceId: string, payment: { amount: string; method: string; reference?: string }, nowMs: number): Promise<BillingResult<Invoice>> {
    return this.storage.transaction('write', async (tx): Promise<BillingResult<Invoice>> => {
      const invoice = await getInvoiceView(tx, tenantId, invoiceId)
      if (invoice === undefined) return fail('not_found', 'no invoice with this id')
      if (invoice.status !== 'finalized') return fail('conflict', `status: an invoice that is ${invoice.status} takes no payment`)
      const amount = decimal(payment.amount)
      if (amount.lte(0)) return fail('invalid', 'amount: must be greater than 0')
      const places = minorUnits(invoice.currency)
      if (amount.round(places, 0).cmp(amount) !== 0) return fail('invalid', `amount: ${invoice.currency} has ${places} decimal places`)
      if (amount.gt(invoice.amountDue)) return fail('invalid', `amount: exceeds the amount due (${invoice.amountDue})`)
      const paid = decimal(invoice.amountPaid).plus(amount)
      const full = paid.gte(invoice.total)
      await tx.invoices.addPayment(tenantId, invoiceId, {
        id: newId('py'), amount: formatMoney(amount, invoice.currency), method: payment.method, reference: payment.reference ?? null, atMs: nowMs,
      })
      await tx.invoices.setPaid(tenantId, invoiceId, formatMoney(paid, invoice.currency), full ? 'paid' : 'finalized', full ? nowMs : null)
      return { ok: true, value: (await getInvoiceView(tx, tenantId, invoiceId))! }
    })
  }

  async voidInvoice(tenantId: number, invoiceId: string, reason: string | null, nowMs: number): Promise<BillingResult<Invoice>> {
    return this.storage.transaction('write', async (tx): Promise<BillingResult<Invoice>> => {
      const invoice = await tx.invoices.get(tenantId, invoiceId)
      if (invoice === undefined) return fail('not_found', 'no invoice with this id')
      if (invoice.status !== 'finalized' && invoice.status !== 'paid') return fail('conflict', `status: an invoice that is ${invoice.status} cannot be voided`)
      await tx.invoices.setVoid(tenantId, invoiceId, nowMs, { id: newId('cn'), amount: invoice.total, reason, atMs: nowMs })
      return { ok: true, value: (await getInvoiceView(tx, tenantId, invoiceId))! }
    })
  }

  async quote(tenantId: number, input: { customerId: string; event: string; properties: Properties }, nowMs: number): Promise<BillingResult<Quote>> {
    return this.storage.transaction('read', (tx) => quote(tx, tenantId, input, nowMs))
  }

  // ---- entitlements ----

  /** Whether the customer may use a feature now: on its plan, and for a metered one, the current period's usage against the limit. */
  async entitlement(tenantId: number, customerId: string, featureKey: string, nowMs: number): Promise<BillingResult<Entitlement>> {
    return this.storage.transaction('read', async (tx): Promise<BillingResult<Entitlement>> => {
      const { config } = await tx.configs.current(tenantId)
      const feature = config.features.find((f) => f.key === featureKey)
      if (feature === undefined) return fail('not_found', `no feature "${featureKey}" in the configuration`)
      const ctx = contextAt(await customerSubscriptions(tx, tenantId, customerId), nowMs)
      if (ctx === undefined || !(ctx.plan.features ?? []).includes(featureKey)) return { ok: true, value: { allowed: false } }
      if (feature.type === 'boolean') return { ok: true, value: { allowed: true } }
      const fromMs = periodStartAt(ctx.sub.timeline, nowMs)
      const result = await readUsage(tx, tenantId, { customerId, meter: feature.meter, fromMs, toMs: nowMs + 1, window: 'none', groupBy: [] })
      const used = 'error' in result || result.value === null ? ZERO : decimal(result.value)
      const limit = decimal(feature.limit)
      const remaining = limit.minus(used)
      const value: Entitlement = {
        allowed: feature.hard === true ? used.lt(limit) : true,
        limit: feature.limit,
        used: used.toString(),
        remaining: (remaining.lt(0) ? ZERO : remaining).toString(),
      }
      if (feature.hard !== true && used.gt(limit)) value.overLimit = true
      return { ok: true, value }
    })
  }

  // ---- simulations ----

  async simulate(tenantId: number, r: { plan: PlanConfig; fromMs: number; toMs: number; customerIds?: string[] }): Promise<BillingResult<SimulationRow[]>> {
    return this.storage.transaction('read', async (tx): Promise<BillingResult<SimulationRow[]>> => {
      const { config } = await tx.configs.current(tenantId)
      const candidate = planWithMeters(config, r.plan)
      if ('error' in candidate) return fail('invalid', candidate.error)
      const customers = r.customerIds ?? await tx.subscriptions.customersInEffect(tenantId, r.fromMs, r.toMs)
      const rows: SimulationRow[] = []
      for (const customerId of customers) {
        const subs = await customerSubscriptions(tx, tenantId, customerId)
        const timeZone = await tx.customers.timeZone(tenantId, customerId)
        const usage = new BillingUsage(tx, tenantId, customerId, timeZone, 'fast')
        const currency = r.plan.currency
        let actual = ZERO
        let simulated = ZERO
        for (const s of subs) {
          const segs = periodSegments(s.timeline, r.fromMs, r.toMs)
          await usage.load(segs)
          for (const seg of segs) actual = usageLines(seg, seg.phase.plan.currency, usage.source).reduce((a, l) => a.plus(l.amount), actual)
        }
        const anchorMs = subs[0]?.timeline.startMs ?? r.fromMs
        const phase: Phase = { startMs: Math.min(anchorMs, r.fromMs), plan: r.plan, meters: candidate.meters, anchorMs }
        const t: Timeline = { timeZone, startMs: phase.startMs, endMs: null, phases: [phase] }
        const segs = periodSegments(t, r.fromMs, r.toMs)
        await usage.load(segs)
        for (const seg of segs) simulated = usageLines(seg, currency, usage.source).reduce((a, l) => a.plus(l.amount), simulated)
        rows.push({
          customerId,
          currency,
          actual: formatMoney(actual, currency),
          simulated: formatMoney(simulated, currency),
          difference: formatMoney(simulated.minus(actual), currency),
        })
      }
      return { ok: true, value: rows }
    })
  }
}

/** Segments of a timeline over [from, to), split at its billing periods (tiers restart each period). */
function periodSegments(t: Timeline, fromMs: number, toMs: number): Segment[] {
  return segments(t, fromMs, toMs).flatMap((seg) =>
    periodsBetween(ruleOf(seg.phase, t.timeZone), seg.fromMs, seg.toMs).map((p) => ({
      phase: seg.phase,
      fromMs: Math.max(p.startMs, seg.fromMs),
      toMs: Math.min(p.endMs, seg.toMs),
    })),
  )
}

/** The preview's header as an unnumbered draft. */
function previewRecord(h: InvoiceHeader, nowMs: number): InvoiceRecord {
  return {
    id: 'upcoming', number: null, customerId: h.customerId, subscriptionId: h.subscriptionId, boundaryMs: h.boundary, status: 'draft',
    periodStartMs: h.periodStartMs, periodEndMs: h.periodEndMs, currency: h.currency, subtotal: h.subtotal, creditsApplied: '0',
    total: h.total, amountPaid: '0', cutoffSeq: h.cutoffSeq, createdAtMs: nowMs, finalizedAtMs: null, paidAtMs: null, voidedAtMs: null, creditNote: null,
  }
}


// Billing on the embedded store: subscriptions, billing runs, invoices, payments, simulations.
// Each invoice is computed and written in one IMMEDIATE transaction together with the
// subscription's progress, so a crash leaves either the whole invoice or none of it.
import { randomBytes } from 'node:crypto'
import type Database from 'better-sqlite3'
import { type MeterConfig, type PlanConfig, type Properties, type TenantConfig, fixedDurationMs, parseDuration } from '@meterkit/protocol'
import { ZERO, decimal } from '../../../decimal.js'
import { formatMoney, minorUnits, roundMoney } from '../../../rating/index.js'
import { type InvoiceLine, type UsageSource, adjustmentLines, closingLines, openingLines, totals, usageLines } from '../../../billing/lines.js'
import type { BillingResult, BillingRunResult, BillingStore, Entitlement, Invoice, Quote, SimulationRow, SubscribeInput, Subscription } from '../../../billing/model.js'
import { periodsBetween } from '../../../billing/periods.js'
import { type Phase, type Timeline, boundaryAfter, phaseAt, ruleOf, samePeriods, segments } from '../../../billing/timeline.js'
import type { Page } from '../../port.js'
import { decodeCursor, encodeCursor } from '../cursor.js'
import type { DerivedState } from '../derived.js'
import type { UsageReader } from '../usage-reader.js'
import { InvoiceRows, type InvoiceRow, linePosition } from './invoice-rows.js'
import { type LoadedSubscription, SubscriptionRows, periodStartAt, subscriptionView } from './subscriptions.js'
import { BillingUsage } from './usage-source.js'
import { LateEvents } from './late-events.js'
import { type CreditCloseDeps, reconcileCredits } from './credit-close.js'
import type { SqliteCredits } from '../credits/sqlite-credits.js'
import { contextAt } from '../credits/plan-context.js'
import { WebhookOutbox, invoiceFinalizedData } from '../../../webhooks/index.js'
import { quote } from './quote.js'

export const DEFAULT_GRACE_MS = 3_600_000
const RUN_SLICE_MS = 50

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`
const fail = (code: 'not_found' | 'invalid' | 'conflict', message: string) => ({ ok: false as const, code, message })

/** The plan with the given key in the configuration, and the meters its charges read. */
export function planWithMeters(config: TenantConfig, plan: PlanConfig): { plan: PlanConfig; meters: MeterConfig[] } | { error: string } {
  const keys = new Set(plan.charges.flatMap((c) => (c.model === 'flat' ? [] : [c.meter])))
  const meters = config.meters.filter((m) => keys.has(m.key))
  const missing = [...keys].filter((k) => !meters.some((m) => m.key === k))
  if (missing.length > 0) return { error: `plan: charges read meters the configuration does not have: ${missing.join(', ')}` }
  return { plan, meters }
}

export function gracePeriodMs(config: TenantConfig): number {
  const text = config.billing?.gracePeriod
  const d = text === undefined ? undefined : parseDuration(text)
  return (d && fixedDurationMs(d)) ?? DEFAULT_GRACE_MS
}

export class SqliteBilling implements BillingStore {
  private readonly subs: SubscriptionRows
  private readonly invoices: InvoiceRows
  private readonly usage: BillingUsage
  private readonly late: LateEvents
  private readonly outbox: WebhookOutbox
  private readonly stmt
  private readonly reader: UsageReader

  constructor(
    private readonly db: Database.Database,
    derived: DerivedState,
    reader: UsageReader,
    private readonly config: (tenantId: number) => { version: number; config: TenantConfig },
    private readonly credits: SqliteCredits,
  ) {
    this.reader = reader
    this.subs = new SubscriptionRows(db)
    this.invoices = new InvoiceRows(db)
    this.usage = new BillingUsage(db, derived, reader)
    this.late = new LateEvents(db)
    this.outbox = new WebhookOutbox(db)
    this.stmt = {
      ensureCustomer: db.prepare("INSERT INTO customers (tenant_id, id, timezone, created_at) VALUES (?, ?, 'UTC', ?) ON CONFLICT DO NOTHING"),
      listAll: db.prepare('SELECT * FROM invoices WHERE tenant_id = ? AND (? IS NULL OR (boundary, id) < (?, ?)) ORDER BY boundary DESC, id DESC LIMIT ?'),
      listCustomer: db.prepare(
        'SELECT * FROM invoices WHERE tenant_id = ? AND customer_id = ? AND (? IS NULL OR (boundary, id) < (?, ?)) ORDER BY boundary DESC, id DESC LIMIT ?',
      ),
      finalizedOf: db.prepare(
        "SELECT * FROM invoices WHERE tenant_id = ? AND subscription_id = ? AND status IN ('finalized', 'paid') AND period_end = boundary ORDER BY boundary",
      ),
      eventIds: db.prepare('SELECT id, ts FROM events WHERE seq = ?'),
      addPayment: db.prepare(
        `INSERT INTO invoice_payments (tenant_id, invoice_id, id, position, amount, method, reference, at)
         VALUES (?, ?, ?, (SELECT count(*) + 1 FROM invoice_payments WHERE tenant_id = ? AND invoice_id = ?), ?, ?, ?, ?)`,
      ),
      setPaid: db.prepare('UPDATE invoices SET amount_paid = ?, status = ?, paid_at = ? WHERE tenant_id = ? AND id = ?'),
      setVoid: db.prepare("UPDATE invoices SET status = 'void', voided_at = ?, credit_note = ? WHERE tenant_id = ? AND id = ?"),
      purchases: db.prepare('SELECT grant_id, credits, amount, at FROM credit_purchases WHERE tenant_id = ? AND customer_id = ? AND invoice_id IS NULL ORDER BY at, grant_id'),
      purchased: db.prepare('UPDATE credit_purchases SET invoice_id = ? WHERE tenant_id = ? AND customer_id = ? AND grant_id = ?'),
      tenants: db.prepare('SELECT DISTINCT tenant_id FROM subscriptions').pluck(),
      customersWithSubs: db.prepare('SELECT DISTINCT customer_id FROM subscriptions WHERE tenant_id = ? AND start_at < ? AND (end_at IS NULL OR end_at > ?)').pluck(),
    }
  }

  /** A void or amend: the subscription's next invoice adjusts an invoiced period it changes. */
  noteCorrection(tenantId: number, customerId: string, ts: number, seq: number): void {
    this.late.noteCorrection(tenantId, customerId, ts, seq)
  }

  async billedTenants(): Promise<number[]> {
    return this.stmt.tenants.all() as number[]
  }

  // ---- subscriptions ----

  async subscribe(tenantId: number, input: SubscribeInput, nowMs: number): Promise<BillingResult<{ subscription: Subscription; created: boolean }>> {
    return this.db.transaction((): BillingResult<{ subscription: Subscription; created: boolean }> => {
      const { version, config } = this.config(tenantId)
      const plan = config.plans.find((p) => p.key === input.plan)
      if (plan === undefined) return fail('invalid', `plan: no plan "${input.plan}" in configuration version ${version}`)
      const found = planWithMeters(config, plan)
      if ('error' in found) return fail('invalid', found.error)
      if (input.id !== undefined) {
        const existing = this.subs.get(tenantId, input.id)
        if (existing !== undefined) {
          const loaded = this.subs.load(tenantId, existing)
          const same = existing.customer_id === input.customerId && existing.start_at === input.startMs && loaded.timeline.phases[0]?.plan.key === input.plan
          if (!same) return fail('conflict', `id: subscription "${input.id}" exists with other terms`)
          return { ok: true, value: { subscription: subscriptionView(loaded, nowMs), created: false } }
        }
      }
      const id = input.id ?? newId('sub')
      this.stmt.ensureCustomer.run(tenantId, input.customerId, nowMs)
      this.subs.insert(tenantId, id, input.customerId, input.startMs, nowMs)
      this.subs.putPhase(tenantId, id, { startMs: input.startMs, plan, meters: found.meters, anchorMs: input.startMs }, version)
      return { ok: true, value: { subscription: subscriptionView(this.subs.load(tenantId, this.subs.get(tenantId, id)!), nowMs), created: true } }
    }).immediate()
  }

  async getSubscription(tenantId: number, id: string, nowMs: number): Promise<Subscription | undefined> {
    const row = this.subs.get(tenantId, id)
    return row && subscriptionView(this.subs.load(tenantId, row), nowMs)
  }

  async listSubscriptions(tenantId: number, customerId: string, nowMs: number): Promise<Subscription[]> {
    return this.subs.byCustomer(tenantId, customerId).map((row) => subscriptionView(this.subs.load(tenantId, row), nowMs))
  }

  /** The earliest instant a change or cancel may take effect: inside the current period, never in an invoiced one. */
  private earliestChange(s: LoadedSubscription, nowMs: number): number {
    const t = s.timeline
    const current = nowMs < t.startMs ? t.startMs : periodStartAt(t, Math.min(nowMs, (t.endMs ?? Number.POSITIVE_INFINITY) - 1))
    return Math.max(current, s.row.billed_through ?? t.startMs)
  }

  private editable(tenantId: number, id: string, atMs: number, nowMs: number): BillingResult<LoadedSubscription> {
    const row = this.subs.get(tenantId, id)
    if (row === undefined) return fail('not_found', 'no subscription with this id')
    const s = this.subs.load(tenantId, row)
    if (s.timeline.endMs !== null && atMs >= s.timeline.endMs) return fail('invalid', `at: the subscription ends at ${new Date(s.timeline.endMs).toISOString()}`)
    const earliest = this.earliestChange(s, nowMs)
    if (atMs < earliest) return fail('invalid', `at: must not be before the current period's start (${new Date(earliest).toISOString()})`)
    return { ok: true, value: s }
  }

  async changePlan(tenantId: number, id: string, planKey: string, atMs: number, nowMs: number): Promise<BillingResult<Subscription>> {
    return this.db.transaction((): BillingResult<Subscription> => {
      const found = this.editable(tenantId, id, atMs, nowMs)
      if (!found.ok) return found
      const { version, config } = this.config(tenantId)
      const plan = config.plans.find((p) => p.key === planKey)
      if (plan === undefined) return fail('invalid', `plan: no plan "${planKey}" in configuration version ${version}`)
      const withMeters = planWithMeters(config, plan)
      if ('error' in withMeters) return fail('invalid', withMeters.error)
      const current = phaseAt(found.value.timeline, atMs)
      if (current.plan.currency !== plan.currency) return fail('invalid', `plan: must be priced in ${current.plan.currency}, the subscription's currency`)
      const anchorMs = samePeriods(current.plan, plan) ? current.anchorMs : atMs
      // At a boundary whose invoice is final, the period ahead was billed under the current plan.
      const replacesBilled = atMs === found.value.row.billed_through
      this.subs.putPhase(tenantId, id, { startMs: atMs, plan, meters: withMeters.meters, anchorMs, replacesBilled }, version)
      return { ok: true, value: subscriptionView(this.subs.load(tenantId, this.subs.get(tenantId, id)!), nowMs) }
    }).immediate()
  }

  async cancel(tenantId: number, id: string, atMs: number, nowMs: number): Promise<BillingResult<Subscription>> {
    return this.db.transaction((): BillingResult<Subscription> => {
      const found = this.editable(tenantId, id, atMs, nowMs)
      if (!found.ok) return found
      if (atMs <= found.value.timeline.startMs) return fail('invalid', 'at: must be after the subscription starts')
      // The invoice at the last invoiced boundary billed the period ahead; only a later invoice can credit it.
      const billed = found.value.row.billed_through
      if (billed !== null && atMs <= billed) return fail('invalid', `at: must be after ${new Date(billed).toISOString()}, the start of a period already invoiced`)
      this.subs.end(tenantId, id, atMs)
      return { ok: true, value: subscriptionView(this.subs.load(tenantId, this.subs.get(tenantId, id)!), nowMs) }
    }).immediate()
  }

  // ---- billing runs ----

  async run(tenantId: number, untilMs: number, nowMs: number): Promise<BillingRunResult> {
    const graceMs = gracePeriodMs(this.config(tenantId).config)
    // Every credit-priced event stored so far is deducted before periods close on them.
    this.credits.catchUp()
    this.db.transaction(() => this.late.scan(this.usage.maxSeq()))()
    const result: BillingRunResult = { finalized: [], drafts: [], adjustments: 0 }
    const ids = this.subs.all(tenantId).map((row) => row.id)
    // Several subscriptions per transaction: a commit (an fsync) per invoice would bound a run of
    // 10,000 customers by the disk, not the work. A transaction holds the write lock for at most
    // about RUN_SLICE_MS, so ingest waits no longer than that.
    let next = 0
    while (next < ids.length) {
      next = this.db.transaction(() => {
        const started = performance.now()
        let i = next
        while (i < ids.length && performance.now() - started < RUN_SLICE_MS) {
          while (this.step(tenantId, ids[i]!, untilMs, graceMs, nowMs, result));
          i++
        }
        return i
      }).immediate()
    }
    return result
  }

  /** Issues the subscription's next invoice if it is due; true when there may be another. */
  private step(tenantId: number, id: string, untilMs: number, graceMs: number, nowMs: number, result: BillingRunResult): boolean {
    const s = this.subs.load(tenantId, this.subs.get(tenantId, id)!)
    const t = s.timeline
    const opening = s.row.billed_through === null
    const b = opening ? t.startMs : boundaryAfter(t, s.row.billed_through!)
    if (b === undefined) return false
    if (b > untilMs) return false
    const final = opening || b + graceMs <= untilMs
    const invoice = this.compute(tenantId, s, b, final)
    if (invoice !== undefined) {
      this.invoices.write(tenantId, invoice.header, invoice.lines, nowMs)
      // invoice.finalized commits with the invoice: a run that is interrupted or repeated sends it once.
      const endpoints = final ? this.config(tenantId).config.webhooks ?? [] : []
      if (endpoints.length > 0) this.outbox.enqueue(tenantId, endpoints, 'invoice.finalized', invoiceFinalizedData(this.invoices.get(tenantId, invoice.header.id)!), nowMs)
      ;(final ? result.finalized : result.drafts).push(invoice.header.id)
      result.adjustments += invoice.lines.filter((l) => l.kind === 'adjustment').length
    }
    if (!final) return false
    this.subs.setBilledThrough(tenantId, id, b)
    return true
  }

  /** The invoice at boundary b: closing [previous boundary, b) and opening the next period. */
  private compute(tenantId: number, s: LoadedSubscription, b: number, final: boolean, preview = false) {
    const t = s.timeline
    const plan = phaseAt(t, Math.max(t.startMs, b - 1)).plan
    const currency = plan.currency
    const usage = preview ? this.usage.fast(tenantId, s.row.customer_id, t.timeZone) : this.usage.scanning(tenantId, s.row.customer_id, t.timeZone)
    const existing = this.invoices.headerAt(tenantId, s.row.id, b)
    const id = existing?.id ?? newId('in')
    const lines: InvoiceLine[] = []
    const prev = s.row.billed_through
    let periodStartMs = b
    let periodEndMs = boundaryAfter(t, b) ?? b
    if (prev !== null) {
      const billedAt = this.invoices.headerAt(tenantId, s.row.id, prev)
      const billed = billedAt === undefined || billedAt.status === 'void' ? [] : this.invoices.linesOf(tenantId, billedAt.id)
      // The period's credits are final before its overage is invoiced.
      if (final && !preview) reconcileCredits(this.creditDeps(usage), tenantId, s, prev, b, { closing: true, reason: 'period close', atMs: b })
      lines.push(...closingLines(t, currency, prev, b, billed, usage))
      if (!preview) lines.push(...this.adjustments(tenantId, s, currency, final))
      lines.push(...this.creditLines(tenantId, s, plan, id, b, final && !preview))
      periodStartMs = prev
      periodEndMs = b
    }
    lines.push(...openingLines(t, currency, b))
    if (prev === null && lines.length === 0) return undefined
    const sums = totals(lines, currency)
    const status = !final ? 'draft' : decimal(sums.total).lte(0) ? 'paid' : 'finalized'
    const creditsApplied = lines.reduce((a, l) => (l.kind === 'usage' && l.credits !== undefined ? a.plus(l.credits) : a), ZERO)
    return {
      header: {
        id,
        customerId: s.row.customer_id,
        subscriptionId: s.row.id,
        boundary: b,
        status,
        periodStartMs,
        periodEndMs,
        currency,
        ...sums,
        creditsApplied: creditsApplied.toString(),
        cutoffSeq: this.usage.maxSeq(),
      } as const,
      lines,
    }
  }

  private creditDeps(usage: UsageSource): CreditCloseDeps {
    return { credits: this.credits, usage, eventIds: (seqs) => seqs.map((seq) => (this.stmt.eventIds.get(seq) as { id: string }).id) }
  }

  /**
   * The overage (credits used beyond the grants, at the plan's creditPrice) and the credits
   * bought since the last invoice. `settle`: the invoice is final, so the overage is settled in
   * the ledger and the purchases are marked as invoiced.
   */
  private creditLines(tenantId: number, s: LoadedSubscription, plan: PlanConfig, invoiceId: string, b: number, settle: boolean): InvoiceLine[] {
    const lines: InvoiceLine[] = []
    const customerId = s.row.customer_id
    if (plan.creditPrice !== undefined) {
      const owed = settle ? this.credits.settleOverage(tenantId, customerId, invoiceId, b, b) : this.credits.owed(tenantId, customerId)
      if (owed.gt(0)) {
        lines.push({
          chargeKey: 'overage', kind: 'overage', description: `Credits beyond the grants: ${owed.toString()} × ${plan.creditPrice}`,
          quantity: owed.toString(), amount: formatMoney(roundMoney(owed.times(plan.creditPrice), plan.currency), plan.currency),
          periodStartMs: s.row.billed_through ?? b, periodEndMs: b,
        })
      }
    }
    for (const p of this.stmt.purchases.all(tenantId, customerId) as { grant_id: string; credits: string; amount: string; at: number }[]) {
      lines.push({
        chargeKey: 'top_up', kind: 'top_up', description: `Top-up: ${p.credits} credits`, quantity: p.credits,
        amount: formatMoney(decimal(p.amount), plan.currency), periodStartMs: p.at, periodEndMs: p.at,
      })
      if (settle) this.stmt.purchased.run(invoiceId, tenantId, customerId, p.grant_id)
    }
    return lines
  }

  /** A void or amend of a folded event: its credit-priced charges are recounted and the difference deducted or refunded. */
  correctCredits(tenantId: number, event: { id: string; customer_id: string; ts: number; seq: number }, nowMs: number): void {
    if (event.seq > this.credits.watermark()) return // not charged yet: the fold sees the corrected event
    for (const row of this.subs.byCustomer(tenantId, event.customer_id)) {
      const s = this.subs.load(tenantId, row)
      const t = s.timeline
      if (event.ts < t.startMs || (t.endMs !== null && event.ts >= t.endMs)) continue
      const from = periodStartAt(t, event.ts)
      const to = boundaryAfter(t, event.ts) ?? event.ts + 1
      const usage = this.usage.scanning(tenantId, event.customer_id, t.timeZone)
      reconcileCredits(this.creditDeps(usage), tenantId, s, from, to, {
        closing: false, reason: 'event corrected', atMs: nowMs, eventIds: [event.id],
        only: (seg) => event.ts >= seg.fromMs && event.ts < seg.toMs,
      })
    }
  }

  /** Adjustments for invoiced periods that late or corrected events changed since. */
  private adjustments(tenantId: number, s: LoadedSubscription, currency: string, consume: boolean): InvoiceLine[] {
    const changes = this.late.pending(tenantId, s.row.customer_id, s.timeline.startMs, s.row.billed_through!)
    if (changes.length === 0) return []
    const out: InvoiceLine[] = []
    const finalized = this.stmt.finalizedOf.all(tenantId, s.row.id) as InvoiceRow[]
    const all = finalized.flatMap((inv) => this.invoices.linesOf(tenantId, inv.id))
    const usage = this.usage.scanning(tenantId, s.row.customer_id, s.timeline.timeZone)
    const changed = new Map(changes.map((c) => [c.seq, c.ts]))
    for (const inv of finalized) {
      if (!changes.some((c) => c.ts >= inv.period_start && c.ts < inv.period_end)) continue
      const recomputed = segments(s.timeline, inv.period_start, inv.period_end).flatMap((seg) => usageLines(seg, currency, usage))
      const billed = all.filter((l) => (l.kind === 'usage' || l.kind === 'adjustment') && l.periodStartMs >= inv.period_start && l.periodEndMs <= inv.period_end)
      out.push(...adjustmentLines(recomputed, billed, changed, currency))
    }
    if (consume) this.late.consume(tenantId, s.row.customer_id, s.timeline.startMs, s.row.billed_through!)
    return out
  }

  async upcoming(tenantId: number, customerId: string, nowMs: number): Promise<Invoice | undefined> {
    return this.db.transaction(() => {
      let best: { s: LoadedSubscription; b: number } | undefined
      for (const row of this.subs.byCustomer(tenantId, customerId)) {
        let s = this.subs.load(tenantId, row)
        // The open period's invoice, even before a billing run has caught up with the boundaries
        // behind it (a new subscription's opening invoice, a scheduler that has not run yet).
        if (nowMs >= s.timeline.startMs && (row.billed_through === null || (boundaryAfter(s.timeline, row.billed_through) ?? Infinity) <= nowMs)) {
          if (s.timeline.endMs !== null && nowMs >= s.timeline.endMs) continue
          s = { ...s, row: { ...row, billed_through: periodStartAt(s.timeline, nowMs) } }
        }
        const b = s.row.billed_through === null ? s.timeline.startMs : boundaryAfter(s.timeline, s.row.billed_through)
        if (b !== undefined && (best === undefined || b < best.b)) best = { s, b }
      }
      if (best === undefined) return undefined
      const invoice = this.compute(tenantId, best.s, best.b, false, true)
      if (invoice === undefined) return undefined
      const view = this.invoices.view(tenantId, previewRow(invoice.header, nowMs))
      const lines = invoice.lines.map(({ eventSeqs, advance: _advance, ...l }, i) => ({ ...l, id: `li_${i + 1}`, eventCount: eventSeqs?.length ?? 0 }))
      return { ...view, lines, amountDue: view.total }
    })()
  }

  // ---- invoices ----

  async getInvoice(tenantId: number, id: string): Promise<Invoice | undefined> {
    return this.db.transaction(() => this.invoices.get(tenantId, id))()
  }

  async listInvoices(tenantId: number, q: { customerId?: string; cursor?: string; limit: number }): Promise<Page<Invoice>> {
    let after: [number, string] | [null, null] = [null, null]
    if (q.cursor !== undefined) {
      const key = decodeCursor(q.cursor)
      if (key === undefined || typeof key[0] !== 'number' || typeof key[1] !== 'string') throw new RangeError('cursor: not a cursor this list returned')
      after = [key[0], key[1]]
    }
    return this.db.transaction(() => {
      const rows = (q.customerId === undefined
        ? this.stmt.listAll.all(tenantId, after[0], after[0], after[1], q.limit + 1)
        : this.stmt.listCustomer.all(tenantId, q.customerId, after[0], after[0], after[1], q.limit + 1)) as InvoiceRow[]
      const more = rows.length > q.limit
      const page = (more ? rows.slice(0, q.limit) : rows)
      const last = page[page.length - 1]
      return { data: page.map((r) => this.invoices.view(tenantId, r)), nextCursor: more && last ? encodeCursor([last.boundary, last.id]) : null }
    })()
  }

  async lineEvents(tenantId: number, invoiceId: string, lineId: string, q: { cursor?: string; limit: number }) {
    return this.db.transaction(() => {
      const position = linePosition(lineId)
      if (position === undefined) return undefined
      const seqs = this.invoices.lineSeqs(tenantId, invoiceId, position)
      if (seqs === undefined) return undefined
      const start = q.cursor === undefined ? 0 : Number(decodeCursor(q.cursor)?.[0] ?? Number.NaN)
      if (!Number.isInteger(start) || start < 0) throw new RangeError('cursor: not a cursor this list returned')
      const slice = seqs.slice(start, start + q.limit)
      const data = slice.map((seq) => {
        const e = this.stmt.eventIds.get(seq) as { id: string; ts: number }
        return { id: e.id, timestampMs: e.ts }
      })
      return { data, nextCursor: start + q.limit < seqs.length ? encodeCursor([start + q.limit]) : null }
    })()
  }

  async pay(tenantId: number, invoiceId: string, payment: { amount: string; method: string; reference?: string }, nowMs: number): Promise<BillingResult<Invoice>> {
    return this.db.transaction((): BillingResult<Invoice> => {
      const invoice = this.invoices.get(tenantId, invoiceId)
      if (invoice === undefined) return fail('not_found', 'no invoice with this id')
      if (invoice.status !== 'finalized') return fail('conflict', `status: an invoice that is ${invoice.status} takes no payment`)
      const amount = decimal(payment.amount)
      if (amount.lte(0)) return fail('invalid', 'amount: must be greater than 0')
      const places = minorUnits(invoice.currency)
      if (amount.round(places, 0).cmp(amount) !== 0) return fail('invalid', `amount: ${invoice.currency} has ${places} decimal places`)
      if (amount.gt(invoice.amountDue)) return fail('invalid', `amount: exceeds the amount due (${invoice.amountDue})`)
      const paid = decimal(invoice.amountPaid).plus(amount)
      const full = paid.gte(invoice.total)
      this.stmt.addPayment.run(tenantId, invoiceId, newId('py'), tenantId, invoiceId, formatMoney(amount, invoice.currency), payment.method, payment.reference ?? null, nowMs)
      this.stmt.setPaid.run(formatMoney(paid, invoice.currency), full ? 'paid' : 'finalized', full ? nowMs : null, tenantId, invoiceId)
      return { ok: true, value: this.invoices.get(tenantId, invoiceId)! }
    }).immediate()
  }

  async voidInvoice(tenantId: number, invoiceId: string, reason: string | null, nowMs: number): Promise<BillingResult<Invoice>> {
    return this.db.transaction((): BillingResult<Invoice> => {
      const invoice = this.invoices.get(tenantId, invoiceId)
      if (invoice === undefined) return fail('not_found', 'no invoice with this id')
      if (invoice.status !== 'finalized' && invoice.status !== 'paid') return fail('conflict', `status: an invoice that is ${invoice.status} cannot be voided`)
      const note = { id: newId('cn'), amount: invoice.total, reason, atMs: nowMs }
      this.stmt.setVoid.run(nowMs, JSON.stringify(note), tenantId, invoiceId)
      return { ok: true, value: this.invoices.get(tenantId, invoiceId)! }
    }).immediate()
  }

  async quote(tenantId: number, input: { customerId: string; event: string; properties: Properties }, nowMs: number): Promise<BillingResult<Quote>> {
    return this.db.transaction(() => quote(this.subs, this.reader, tenantId, input, nowMs))()
  }

  // ---- entitlements ----

  /** Whether the customer may use a feature now: on its plan, and for a metered one, the current period's usage against the limit. */
  async entitlement(tenantId: number, customerId: string, featureKey: string, nowMs: number): Promise<BillingResult<Entitlement>> {
    const { config } = this.config(tenantId)
    const feature = config.features.find((f) => f.key === featureKey)
    if (feature === undefined) return fail('not_found', `no feature "${featureKey}" in the configuration`)
    return this.db.transaction((): BillingResult<Entitlement> => {
      const ctx = contextAt(this.subs.byCustomer(tenantId, customerId).map((row) => this.subs.load(tenantId, row)), nowMs)
      if (ctx === undefined || !(ctx.plan.features ?? []).includes(featureKey)) return { ok: true, value: { allowed: false } }
      if (feature.type === 'boolean') return { ok: true, value: { allowed: true } }
      const fromMs = periodStartAt(ctx.sub.timeline, nowMs)
      const result = this.reader.usage(tenantId, { customerId, meter: feature.meter, fromMs, toMs: nowMs + 1, window: 'none', groupBy: [] })
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
    })()
  }

  // ---- simulations ----

  async simulate(tenantId: number, r: { plan: PlanConfig; fromMs: number; toMs: number; customerIds?: string[] }): Promise<BillingResult<SimulationRow[]>> {
    return this.db.transaction((): BillingResult<SimulationRow[]> => {
      const { config } = this.config(tenantId)
      const candidate = planWithMeters(config, r.plan)
      if ('error' in candidate) return fail('invalid', candidate.error)
      const customers = r.customerIds ?? (this.stmt.customersWithSubs.all(tenantId, r.toMs, r.fromMs) as string[])
      const rows: SimulationRow[] = []
      for (const customerId of customers) {
        const subs = this.subs.byCustomer(tenantId, customerId).map((row) => this.subs.load(tenantId, row))
        const timeZone = this.subs.timeZone(tenantId, customerId)
        const usage = this.usage.fast(tenantId, customerId, timeZone)
        const currency = r.plan.currency
        let actual = ZERO
        let simulated = ZERO
        for (const s of subs) {
          for (const seg of periodSegments(s.timeline, r.fromMs, r.toMs)) {
            actual = usageLines(seg, seg.phase.plan.currency, usage).reduce((a, l) => a.plus(l.amount), actual)
          }
        }
        const anchorMs = subs[0]?.timeline.startMs ?? r.fromMs
        const phase: Phase = { startMs: Math.min(anchorMs, r.fromMs), plan: r.plan, meters: candidate.meters, anchorMs }
        const t: Timeline = { timeZone, startMs: phase.startMs, endMs: null, phases: [phase] }
        for (const seg of periodSegments(t, r.fromMs, r.toMs)) {
          simulated = usageLines(seg, currency, usage).reduce((a, l) => a.plus(l.amount), simulated)
        }
        rows.push({
          customerId,
          currency,
          actual: formatMoney(actual, currency),
          simulated: formatMoney(simulated, currency),
          difference: formatMoney(simulated.minus(actual), currency),
        })
      }
      return { ok: true, value: rows }
    })()
  }
}

/** Segments of a timeline over [from, to), split at its billing periods (tiers restart each period). */
function periodSegments(t: Timeline, fromMs: number, toMs: number) {
  return segments(t, fromMs, toMs).flatMap((seg) =>
    periodsBetween(ruleOf(seg.phase, t.timeZone), seg.fromMs, seg.toMs).map((p) => ({
      phase: seg.phase,
      fromMs: Math.max(p.startMs, seg.fromMs),
      toMs: Math.min(p.endMs, seg.toMs),
    })),
  )
}

function previewRow(h: { id: string; customerId: string; subscriptionId: string; boundary: number; periodStartMs: number; periodEndMs: number; currency: string; subtotal: string; total: string; cutoffSeq: number }, nowMs: number): InvoiceRow {
  return {
    id: 'upcoming', number: null, customer_id: h.customerId, subscription_id: h.subscriptionId, boundary: h.boundary, status: 'draft',
    period_start: h.periodStartMs, period_end: h.periodEndMs, currency: h.currency, subtotal: h.subtotal, credits_applied: '0',
    total: h.total, amount_paid: '0', cutoff_seq: h.cutoffSeq, created_at: nowMs, finalized_at: null, paid_at: null, voided_at: null, credit_note: null,
  }
}

// Quotes: what one more event would cost the customer now, under its plan, in credits and money.
// Each usage charge whose meter counts the event is priced at the margin, price(usage with the
// event) − price(usage without), over the current billing period: so tiers, free units and
// dimensions come out as the invoice would have them.
import type { JsonValue, Properties } from '@meterkit/protocol'
import type Big from 'big.js'
import { ZERO, decimal, numericToDecimal, compareNumeric } from '../decimal.js'
import { compileMeter, contribution } from '../meters/meter.js'
import { formatMoney, incrementCost, roundMoney } from '../rating/index.js'
import { contextAt, pricedFrom } from '../credits/plan-context.js'
import type { Tx } from '../store/storage.js'
import { readUsage } from '../meters/usage-reading.js'
import { usageCharges } from './lines.js'
import type { BillingResult, Quote } from './model.js'
import { customerSubscriptions } from './subscriptions.js'

export async function quote(tx: Tx, tenantId: number, input: { customerId: string; event: string; properties: Properties }, nowMs: number): Promise<BillingResult<Quote>> {
  const ctx = contextAt(await customerSubscriptions(tx, tenantId, input.customerId), nowMs)
  if (ctx === undefined) return { ok: false, code: 'not_found', message: 'customerId: the customer has no subscription in effect to price with' }
  const plan = ctx.plan
  const lines: Quote['lines'] = []
  let credits = ZERO
  let money = ZERO
  for (const charge of usageCharges(plan)) {
    const config = ctx.phase.meters.find((m) => m.key === charge.meter)
    if (config === undefined || config.event !== input.event) continue
    const meter = compileMeter(config)
    // Priced as a server event: a quote says what the work will cost when the server records it.
    const c = contribution(meter, input.event, 'server', input.properties as JsonValue)
    if (c === undefined) continue
    const dimName = charge.model === 'dimensional' ? charge.dimension : undefined
    const dimIndex = dimName === undefined ? -1 : meter.groupBy.indexOf(dimName)
    const dimKey = dimIndex < 0 ? undefined : JSON.stringify((JSON.parse(c.groupKey) as JsonValue[])[dimIndex] ?? null)
    const usage = await readUsage(tx, tenantId, {
      customerId: input.customerId, meter: meter.key, fromMs: pricedFrom(ctx, nowMs), toMs: nowMs + 1, window: 'none',
      groupBy: dimName === undefined ? [] : [dimName],
    })
    if ('error' in usage) continue
    const byDimension = new Map<string, Big>()
    for (const g of usage.groups ?? []) if (g.value !== null) byDimension.set(JSON.stringify(g.group[dimName ?? ''] ?? null), decimal(g.value))
    const before = dimKey === undefined ? (usage.value === null ? ZERO : decimal(usage.value)) : byDimension.get(dimKey) ?? ZERO
    let after: Big
    let units: Big
    switch (meter.aggregation) {
      case 'count':
      case 'unique_count':
        units = decimal(1)
        after = before.plus(1)
        break
      case 'sum':
        units = numericToDecimal(c.value!)
        after = before.plus(units)
        break
      case 'max':
      case 'min': {
        units = numericToDecimal(c.value!)
        const keep = meter.aggregation === 'max' ? compareNumeric(units, before) <= 0 : compareNumeric(units, before) >= 0
        after = usage.value === null ? units : keep ? before : units
        break
      }
      case 'latest':
        units = numericToDecimal(c.value!)
        after = units
        break
      default:
        units = numericToDecimal(c.value!)
        after = before
    }
    const cost = incrementCost(charge, before, after, dimKey, dimKey === undefined ? undefined : byDimension)
    const inCredits = charge.unit === 'credits'
    if (inCredits) credits = credits.plus(cost)
    else money = money.plus(cost)
    lines.push({
      chargeKey: charge.key,
      description: `${charge.description ?? charge.key}: ${units.toString()} ${meter.key}${dimKey === undefined ? '' : ` (${dimKey})`}`,
      quantity: units.toString(),
      ...(inCredits ? { credits: cost.toString() } : {}),
      amount: formatMoney(roundMoney(inCredits ? cost.times(plan.creditPrice ?? '0') : cost, plan.currency), plan.currency),
    })
  }
  const amount = money.plus(credits.times(plan.creditPrice ?? '0'))
  return { ok: true, value: { customerId: input.customerId, plan: plan.key, credits: credits.toString(), amount: formatMoney(roundMoney(amount, plan.currency), plan.currency), currency: plan.currency, lines } }
}

// Short, human descriptions of rated lines ("render_seconds: 12.5 × 4"), built from the same
// tier and package arithmetic that prices the line, so the text and the amount agree.
import Big from 'big.js'
import type { SimplePrice } from '@meterkit/protocol'
import { formatDecimal as text } from '../decimal.js'
import { amountOf, graduatedParts, packageCount, volumeTier } from './price.js'

/** How a quantity is priced: "12.5 × 4", "250 in 3 packages of 100 × 5", "100 × 0 + 50 × 0.05". */
export function describePrice(price: SimplePrice, quantity: Big): string {
  const q = quantity.lt(0) ? new Big(0) : quantity
  switch (price.model) {
    case 'per_unit':
      return `${text(q)} × ${price.unitAmount}`
    case 'package': {
      const n = packageCount(q, new Big(price.packageSize), price.round ?? 'up')
      return `${text(q)} in ${text(n)} ${n.eq(1) ? 'package' : 'packages'} of ${price.packageSize} × ${price.amount}`
    }
    case 'graduated': {
      const parts = graduatedParts(price.tiers, q)
      if (parts.length === 0) return text(q)
      return parts.map((p) => `${text(p.units)} × ${text(p.unitAmount)}${withFlat(p.flatAmount)}`).join(' + ')
    }
    case 'volume': {
      const reached = volumeTier(price.tiers, q)
      if (reached === undefined) return text(q)
      const tier = price.tiers[reached]!
      return `${text(q)} × ${text(amountOf(tier.unitAmount))}${withFlat(amountOf(tier.flatAmount))}`
    }
  }
}

/** A line's description: the label, how it was priced, and what changed the plain price. */
export function describeLine(label: string, priced: string, freeTaken: Big, bound?: { kind: 'minimum' | 'maximum'; amount: string }): string {
  const free = freeTaken.gt(0) ? ` (after ${text(freeTaken)} free)` : ''
  const limit = bound === undefined ? '' : ` (${bound.kind} ${bound.amount})`
  return `${label}: ${priced}${free}${limit}`
}

function withFlat(flatAmount: Big): string {
  return flatAmount.gt(0) ? ` + ${text(flatAmount)}` : ''
}

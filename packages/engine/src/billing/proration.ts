// Proration of flat fees on start, change and cancel: the share of a billing period that a part
// of it covers, by elapsed time.
import Big from 'big.js'
import { ZERO } from '../decimal.js'
import type { Period } from './periods.js'

/**
 * The share of `period` covered by [fromMs, toMs), clipped to the period (a part outside it, or
 * empty, is 0). Time counts by the millisecond: seconds are exact decimals (1.5 s is 1.5 s, not 1
 * or 2), so this is the ratio of milliseconds.
 *
 * It is computed as position(toMs) − position(fromMs), each position being the elapsed share of
 * the period rounded half-up to DIVISION_PLACES (decimal.ts). So the fraction equals the exact
 * ratio whenever that ratio has at most DIVISION_PLACES decimals (21/30 is exactly 0.7), is
 * otherwise within 10^-DIVISION_PLACES of it, and the fractions of the parts of any split of a
 * period sum to exactly 1: adjacent parts share a rounded position, so nothing is lost or
 * charged twice across a plan change.
 */
export function prorationFraction(period: Period, fromMs: number, toMs: number): Big {
  const lengthMs = period.endMs - period.startMs
  if (!(lengthMs > 0)) throw new RangeError(`empty period [${period.startMs}, ${period.endMs})`)
  const from = Math.max(fromMs, period.startMs)
  const to = Math.min(toMs, period.endMs)
  if (!(from < to)) return ZERO
  return position(period, to).minus(position(period, from))
}

/** amount × prorationFraction, exact (unrounded): rounding is the invoice line's business. */
export function prorate(amount: Big, period: Period, fromMs: number, toMs: number): Big {
  return amount.times(prorationFraction(period, fromMs, toMs))
}

/** The elapsed share of the period at `ms`, in [0, 1]; big.js divides to DIVISION_PLACES, half-up. */
function position(period: Period, ms: number): Big {
  if (ms === period.startMs) return ZERO
  if (ms === period.endMs) return new Big(1)
  return new Big(ms - period.startMs).div(period.endMs - period.startMs)
}

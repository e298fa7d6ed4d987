// Exact decimal arithmetic (big.js): sums, prices and credits never touch a float. Divisions
// state their precision; rounding is half-up unless a caller says otherwise.
import Big from 'big.js'

/** Decimal places kept by divisions (averages, prorations): well past the 12 the contract asks. */
export const DIVISION_PLACES = 20
Big.DP = DIVISION_PLACES
Big.RM = Big.roundHalfUp
// Plain notation always: "0.00000001", never "1e-8".
Big.NE = -1_000_000
Big.PE = 1_000_000

export type Decimal = Big
export const ZERO = new Big(0)

const NUMERIC_STRING = /^-?\d+(\.\d+)?$/

/**
 * A property value as an exact decimal: a finite JSON number (as its shortest decimal form, so
 * 0.1 is exactly 0.1) or a numeric string. Anything else is not a number.
 */
export function toDecimal(value: unknown): Big | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? new Big(String(value)) : undefined
  if (typeof value === 'string' && NUMERIC_STRING.test(value)) return new Big(value)
  return undefined
}

export function decimal(text: string | number): Big {
  return new Big(text)
}

/** The canonical decimal string: no exponent, no trailing zeros. */
export function formatDecimal(value: Big): string {
  return value.toString()
}

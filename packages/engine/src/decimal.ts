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

/**
 * An exact running sum that keeps the common case off the big-decimal path: JS numbers whose
 * shortest decimal form has at most 6 fractional digits (0.1, 12.5, 3) are added as integer
 * millionths while that integer stays exact (below 2^53); anything else is added as a Decimal.
 * `sum.test.ts` holds it equal to plain big.js sums on arbitrary input.
 */
export class DecimalSum {
  private micros = 0
  private big: Big | undefined

  add(value: number | Big): void {
    if (typeof value === 'number') {
      const m = Math.round(value * 1e6)
      // m / 1e6 === value means value is the double nearest to m millionths; below 1e9 two such
      // decimals are further apart than an ulp, so m millionths is exactly value's decimal form.
      if (Math.abs(value) < 1e9 && m / 1e6 === value && Math.abs(this.micros + m) <= Number.MAX_SAFE_INTEGER) {
        this.micros += m
        return
      }
      value = new Big(String(value))
    }
    this.big = this.big === undefined ? value : this.big.plus(value)
  }

  merge(other: DecimalSum): void {
    if (Math.abs(this.micros + other.micros) <= Number.MAX_SAFE_INTEGER) this.micros += other.micros
    else this.big = this.big === undefined ? new Big(microsText(other.micros)) : this.big.plus(microsText(other.micros))
    if (other.big !== undefined) this.big = this.big === undefined ? other.big : this.big.plus(other.big)
  }

  value(): Big {
    const micros = this.micros === 0 ? ZERO : new Big(microsText(this.micros))
    return this.big === undefined ? micros : this.big.plus(micros)
  }

  /** The sum as a decimal string, without big-decimal work in the common case. */
  text(): string {
    return this.big === undefined ? microsText(this.micros) : formatDecimal(this.value())
  }

  /** A stored sum; short decimals (the usual case) are read without big-decimal work. */
  static of(text: string): DecimalSum {
    const s = new DecimalSum()
    const m = SHORT_DECIMAL.exec(text)
    if (m === null) {
      s.big = new Big(text)
    } else {
      const micros = Number(m[2]!) * 1e6 + Number((m[3] ?? '').padEnd(6, '0'))
      s.micros = m[1] === '-' ? -micros : micros
    }
    return s
  }
}

/** At most 9 integer and 6 fractional digits: exact as integer millionths. */
const SHORT_DECIMAL = /^(-?)(\d{1,9})(?:\.(\d{1,6}))?$/

/** An integer count of millionths as a plain decimal string: 12500000 → "12.5". */
function microsText(micros: number): string {
  const digits = String(Math.abs(micros)).padStart(7, '0')
  const whole = digits.slice(0, -6)
  const fraction = digits.slice(-6).replace(/0+$/, '')
  const sign = micros < 0 ? '-' : ''
  return fraction === '' ? `${sign}${whole}` : `${sign}${whole}.${fraction}`
}

/** A property value as it is compared: a finite JS number, or a Decimal (numeric strings). */
export type Numeric = number | Big

export function compareNumeric(a: Numeric, b: Numeric): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0
  return new Big(typeof a === 'number' ? String(a) : a).cmp(typeof b === 'number' ? String(b) : b)
}

export function numericToDecimal(v: Numeric): Big {
  return typeof v === 'number' ? new Big(String(v)) : v
}

/** A property value as a Numeric, or undefined when it is not a number. */
export function toNumeric(value: unknown): Numeric | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
  if (typeof value === 'string' && NUMERIC_STRING.test(value)) return new Big(value)
  return undefined
}

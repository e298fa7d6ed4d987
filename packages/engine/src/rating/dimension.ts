// Dimensional charges: which simple price a dimension value gets, and the order of its lines.
// Usage arrives keyed by each value's JSON form ('"4k"', '5', 'null'); prices are keyed by a
// plain string ("4k", "5") or "*" for every value not listed.
import type { SimplePrice } from '@meterkit/protocol'

export const OTHER_VALUES = '*'

/**
 * The plain string form a listed price key is compared with: the string itself for strings,
 * String(value) for numbers and booleans, so "5" prices both 5 and "5". null has none: only "*"
 * prices it.
 */
export function plainForm(jsonKey: string): string | undefined {
  const value = parseKey(jsonKey)
  return value === null ? undefined : String(value)
}

/** The value as an invoice shows it: strings bare, everything else as JSON. */
export function displayForm(jsonKey: string): string {
  const value = parseKey(jsonKey)
  return typeof value === 'string' ? value : jsonKey
}

export interface PricedValue {
  /** The dimension value's JSON key. */
  key: string
  price: SimplePrice
}

/**
 * The values that have a price, in line order: values of listed keys first, in the order of
 * the prices object's keys, then the values priced by "*", each group sorted by JSON key.
 * Values with neither a listed price nor a "*" price are left out: their units are not charged.
 */
export function pricedValues(prices: Record<string, SimplePrice>, jsonKeys: Iterable<string>): PricedValue[] {
  const listed = Object.keys(prices).filter((k) => k !== OTHER_VALUES)
  const rank = new Map(listed.map((k, i) => [k, i]))
  const other = Object.hasOwn(prices, OTHER_VALUES) ? prices[OTHER_VALUES] : undefined
  const ranked: { key: string; rank: number; price: SimplePrice }[] = []
  for (const key of jsonKeys) {
    const plain = plainForm(key)
    const r = plain === undefined ? undefined : rank.get(plain)
    if (r !== undefined) ranked.push({ key, rank: r, price: prices[plain!]! })
    else if (other !== undefined) ranked.push({ key, rank: listed.length, price: other })
  }
  // Code-unit order, not locale order: the same lines on every machine.
  ranked.sort((a, b) => a.rank - b.rank || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return ranked.map(({ key, price }) => ({ key, price }))
}

function parseKey(jsonKey: string): string | number | boolean | null {
  let value: unknown
  try {
    value = JSON.parse(jsonKey)
  } catch {
    value = undefined
  }
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value as string | number | boolean | null
  // Keys come from the meters' group keys; anything else is a caller's bug, not bad input.
  throw new TypeError(`dimension value key must be the JSON form of a scalar, got ${JSON.stringify(jsonKey)}`)
}

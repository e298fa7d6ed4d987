// Decimals through every store: any canonical decimal string (as the engine writes them, from
// big.js) comes back exactly, digit for digit, from each numeric column kind the ports use.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decimal } from '../../decimal.js'
import { STORES, useStore } from './harness.js'

/** Canonical decimal strings: up to 40 integer and 30 fractional digits, either sign. */
const canonicalDecimal = fc
  .tuple(fc.bigInt({ min: -(10n ** 70n), max: 10n ** 70n }), fc.integer({ min: 0, max: 30 }))
  .map(([units, scale]) => {
    const digits = (units < 0n ? -units : units).toString().padStart(scale + 1, '0')
    const text = `${units < 0n ? '-' : ''}${digits.slice(0, digits.length - scale)}${scale > 0 ? `.${digits.slice(-scale)}` : ''}`
    return decimal(text).toString()
  })

describe.each(STORES)('decimals on $name', ({ factory, skip }) => {
  describe.skipIf(skip)('', () => {
    const store = useStore(factory)

    it('round-trip exactly through credit totals, corrections, reservations and ledger entries', async () => {
      const { storage } = store()
      let n = 0
      await fc.assert(
        fc.asyncProperty(canonicalDecimal, canonicalDecimal, async (a, b) => {
          const key = `k${n++}`
          await storage.transaction('write', async (tx) => {
            await tx.chargeTotals.putTotal(1, 'cus', key, 0, '', a, b)
            await tx.chargeTotals.putCorrection(1, 'cus', key, 0, b)
            await tx.reservations.insert(1, { id: key, customerId: 'cus', credits: a, granted: true, available: b, expiresAtMs: 0 }, 0)
          })
          await storage.transaction('read', async (tx) => {
            expect(await tx.chargeTotals.totals(1, 'cus', key, 0)).toEqual([{ dimension: '', quantity: a, credits: b }])
            expect(await tx.chargeTotals.correction(1, 'cus', key, 0)).toBe(b)
            expect(await tx.reservations.get(1, key)).toMatchObject({ credits: a, available: b })
          })
        }),
        { numRuns: 60 },
      )
    })

    it('keep the trailing zeros a caller wrote (a price as configured), as text would', async () => {
      const { storage } = store()
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 10 ** 9 }), fc.integer({ min: 1, max: 12 }), async (units, scale) => {
          const text = `${Math.floor(units / 10 ** 3)}.${String(units % 1000).padEnd(scale, '0').slice(0, scale)}`
          await storage.transaction('write', async (tx) => tx.thresholds.putAutoTopUp(1, 'cus', { threshold: text, credits: text, amount: text }, true))
          const row = await storage.transaction('read', async (tx) => tx.thresholds.autoTopUp(1, 'cus'))
          expect(row).toEqual({ threshold: text, credits: text, amount: text, armed: true })
        }),
        { numRuns: 40 },
      )
    })
  })
})

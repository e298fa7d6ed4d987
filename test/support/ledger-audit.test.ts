// The auditor of the chaos tests checked on its own: exact decimals, prices worked out by hand,
// how deduction entries group into deductions, and what the after-kill file check reports.
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import type { SentEvent } from './chaos.js'
import { removeDir } from './chaos.js'
import { tempDir } from './collector-process.js'
import { deductionsOf, expectedOf, fixed, formatFixed, ledgerAtKill } from './ledger-audit.js'

const ev = (id: string, event: string, gpuSeconds = 0, customerId = 'cus_a'): SentEvent =>
  ({ id, event, customerId, timestamp: '2026-11-01T00:00:00.000Z', properties: { gpuSeconds } })

describe('ledger audit', () => {
  it('reads and writes decimals exactly, and refuses to round', () => {
    expect(formatFixed(fixed('0.0125') + fixed(12.25))).toBe('12.2625')
    expect(formatFixed(fixed('-3'))).toBe('-3')
    expect(formatFixed(fixed('1e-7'))).toBe('0.0000001')
    expect(formatFixed(fixed('1000050'))).toBe('1000050')
    expect(() => fixed(`0.${'1'.repeat(31)}`)).toThrow(/decimal places/)
    expect(() => fixed('NaN')).toThrow(/not a decimal/)
  })

  it('prices usage by hand: per unit, and graduated tiers with flat amounts', () => {
    // 60 renders of 2.25 GPU seconds and 3 clips: 135 × 0.0125 = 1.6875; renders 50 × 0.5 +
    // (10 × 0.2 + 10) = 37; clips 3 × 0.3 = 0.9.
    const some = [...Array.from({ length: 60 }, (_, i) => ev(`r${i}`, 'render.completed', 2.25)), ...['c1', 'c2', 'c3'].map((id) => ev(id, 'clip.generated'))]
    const a = expectedOf(some).get('cus_a')!
    expect([a.gpuSeconds, a.renders, a.clips].map(formatFixed)).toEqual(['135', '60', '3'])
    expect(formatFixed(a.cost)).toBe('39.5875')
    // 250 renders of 0 s: 25 + (150 × 0.2 + 10) + (50 × 0.05 + 5) = 72.5; exactly 50: 25.
    expect(formatFixed(expectedOf(Array.from({ length: 250 }, (_, i) => ev(`r${i}`, 'render.completed'))).get('cus_a')!.cost)).toBe('72.5')
    expect(formatFixed(expectedOf(Array.from({ length: 50 }, (_, i) => ev(`r${i}`, 'render.completed'))).get('cus_a')!.cost)).toBe('25')
  })

  it('counts one deduction spread over several grants once, and a repeated one twice', () => {
    const ids = JSON.stringify(['e1', 'e2'])
    expect(deductionsOf([
      { at: 1, grantId: 'plan', eventIds: ids },
      { at: 1, grantId: 'big', eventIds: ids },
      { at: 1, grantId: null, eventIds: ids },
    ])).toEqual([['e1', 'e2']])
    expect(deductionsOf([{ at: 1, grantId: 'big', eventIds: ids }, { at: 1, grantId: 'big', eventIds: ids }])).toHaveLength(2)
    expect(deductionsOf([{ at: 1, grantId: 'plan', eventIds: ids }, { at: 2, grantId: 'big', eventIds: ids }])).toHaveLength(2)
    expect(deductionsOf([{ at: 1, grantId: null, eventIds: ids }, { at: 1, grantId: null, eventIds: ids }])).toHaveLength(2)
  })

  it('finds in a killed collector’s file a deduction twice or past the watermark, an event below it not deducted, a state off its entries', () => {
    const dir = tempDir('meterkit-ledger-audit-')
    try {
      const path = join(dir, 'file.db')
      const db = new Database(path)
      db.exec(`CREATE TABLE index_state (name TEXT PRIMARY KEY, seq INTEGER);
        CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT, customer_id TEXT);
        CREATE TABLE credit_entries (tenant_id INTEGER, customer_id TEXT, n INTEGER, type TEXT, credits TEXT, at INTEGER, grant_id TEXT, event_ids TEXT);
        CREATE TABLE credit_state (tenant_id INTEGER, customer_id TEXT, state TEXT);
        INSERT INTO index_state VALUES ('credits', 2);
        INSERT INTO events VALUES (1, 'e1', 'a'), (2, 'e2', 'a'), (3, 'e3', 'a');
        INSERT INTO credit_entries VALUES (1, 'a', 1, 'grant', '100', 0, 'g', NULL), (1, 'a', 2, 'deduction', '-1.5', 5, 'g', '["e1","e2"]');
        INSERT INTO credit_state VALUES (1, 'a', '{"balance":"98.5"}');`)
      db.close()
      expect(ledgerAtKill(path)).toEqual({ watermark: 2, folded: 2, problems: [] })

      const bad = new Database(path)
      bad.exec(`INSERT INTO credit_entries VALUES (1, 'a', 3, 'deduction', '-1', 6, 'g', '["e2","e3"]');
        UPDATE index_state SET seq = 1;`)
      bad.close()
      expect(ledgerAtKill(path).problems).toEqual([
        'e2 deducted from a but not an event of it at or below the watermark 1',
        'e2 deducted from a but not an event of it at or below the watermark 1',
        'e3 deducted from a but not an event of it at or below the watermark 1',
        'e2 deducted 2 times',
        'a: Σ entries 97.5 ≠ stored balance 98.5',
      ])

      const behind = new Database(path)
      behind.exec("DELETE FROM credit_entries WHERE n = 3; UPDATE index_state SET seq = 3;")
      behind.close()
      expect(ledgerAtKill(path).problems).toEqual(['e3 at or below the watermark 3 but deducted nowhere'])
    } finally {
      removeDir(dir)
    }
  })
})

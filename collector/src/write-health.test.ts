import { ManualClock } from '@meterkit/engine'
import { describe, expect, it } from 'vitest'
import { WriteHealth } from './app.js'

describe('WriteHealth (readiness after a refused write)', () => {
  it('reports a refused write until a write succeeds, or until the retry window passes', () => {
    const clock = new ManualClock(0)
    const health = new WriteHealth(clock, 10_000)
    expect(health.problem()).toBeUndefined()
    health.failed('SQLITE_FULL: database or disk is full')
    expect(health.problem()).toBe('SQLITE_FULL: database or disk is full')
    clock.advance(9_999)
    expect(health.problem()).toBeDefined()
    clock.advance(1)
    expect(health.problem()).toBeUndefined()
    health.failed('again')
    health.succeeded()
    expect(health.problem()).toBeUndefined()
  })
})

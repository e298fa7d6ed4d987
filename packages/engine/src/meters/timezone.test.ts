import { describe, expect, it } from 'vitest'
import { splitRange, startOf } from './timezone.js'

const iso = (ms: number) => new Date(ms).toISOString()
const t = (s: string) => Date.parse(s)

describe('calendar boundaries in a time zone', () => {
  it('Los Angeles days across the spring DST change are 24, 23, 24 hours', () => {
    const edges = splitRange(t('2026-03-07T08:00:00Z'), t('2026-03-10T07:00:00Z'), 'day', 'America/Los_Angeles')
    expect(edges.map(iso)).toEqual([
      '2026-03-07T08:00:00.000Z', '2026-03-08T08:00:00.000Z', '2026-03-09T07:00:00.000Z', '2026-03-10T07:00:00.000Z',
    ])
  })

  it('Los Angeles day across the autumn DST change is 25 hours', () => {
    const edges = splitRange(t('2026-10-31T07:00:00Z'), t('2026-11-03T08:00:00Z'), 'day', 'America/Los_Angeles')
    expect(edges.map(iso)).toEqual([
      '2026-10-31T07:00:00.000Z', '2026-11-01T07:00:00.000Z', '2026-11-02T08:00:00.000Z', '2026-11-03T08:00:00.000Z',
    ])
  })

  it('Kolkata days and hours start at :30 UTC', () => {
    expect(iso(startOf(t('2026-11-25T10:00:00Z'), 'day', 'Asia/Kolkata'))).toBe('2026-11-24T18:30:00.000Z')
    expect(iso(startOf(t('2026-11-25T10:00:00Z'), 'hour', 'Asia/Kolkata'))).toBe('2026-11-25T09:30:00.000Z')
    const hours = splitRange(t('2026-11-25T10:00:00Z'), t('2026-11-25T12:00:00Z'), 'hour', 'Asia/Kolkata')
    expect(hours.map(iso)).toEqual(['2026-11-25T10:00:00.000Z', '2026-11-25T10:30:00.000Z', '2026-11-25T11:30:00.000Z', '2026-11-25T12:00:00.000Z'])
  })

  it('months in a zone, weeks from Monday', () => {
    const months = splitRange(t('2026-01-15T00:00:00Z'), t('2026-04-01T00:00:00Z'), 'month', 'America/Los_Angeles')
    expect(months.map(iso)).toEqual([
      '2026-01-15T00:00:00.000Z', '2026-02-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z', '2026-04-01T00:00:00.000Z',
    ])
    expect(iso(startOf(t('2026-11-25T10:00:00Z'), 'week', 'UTC'))).toBe('2026-11-23T00:00:00.000Z')
  })
})

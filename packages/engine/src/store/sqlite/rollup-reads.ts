// Meter rollups and their unique values as rows, for readers.
import type Database from 'better-sqlite3'
import type { RollupReads, RollupRecord } from '../../meters/storage.js'

type Full = [number, string, number, string | null, string | null, string | null, number | null, string | null, string | null]

export class SqliteRollupReads implements RollupReads {
  private readonly stmt

  constructor(db: Database.Database) {
    this.stmt = {
      // Raw rows of just the columns each aggregation reads: materializing full row objects
      // cost more than the query itself on a month of 15-minute buckets.
      rollups: db.prepare(
        `SELECT bucket, group_key, count, sum, min, max, latest_ts, latest_id, latest_value
         FROM meter_rollups WHERE tenant_id = ? AND meter = ? AND customer_id = ? AND bucket >= ? AND bucket < ?`,
      ).raw(),
      counts: db.prepare(
        `SELECT bucket, group_key, count, sum FROM meter_rollups
         WHERE tenant_id = ? AND meter = ? AND customer_id = ? AND bucket >= ? AND bucket < ?`,
      ).raw(),
      uniques: db.prepare(
        `SELECT bucket, group_key, value FROM meter_uniques
         WHERE tenant_id = ? AND meter = ? AND customer_id = ? AND bucket >= ? AND bucket < ?`,
      ).raw(),
    }
  }

  rollups(tenantId: number, meter: string, customerId: string, fromBucket: number, toBucket: number, countsOnly: boolean): RollupRecord[] {
    if (countsOnly) {
      return (this.stmt.counts.all(tenantId, meter, customerId, fromBucket, toBucket) as [number, string, number, string | null][]).map(([bucket, groupKey, count, sum]) => ({
        bucket, groupKey, count, sum, min: null, max: null, latestTs: null, latestId: null, latestValue: null,
      }))
    }
    return (this.stmt.rollups.all(tenantId, meter, customerId, fromBucket, toBucket) as Full[]).map((v) => ({
      bucket: v[0], groupKey: v[1], count: v[2], sum: v[3], min: v[4], max: v[5], latestTs: v[6], latestId: v[7], latestValue: v[8],
    }))
  }

  uniques(tenantId: number, meter: string, customerId: string, fromBucket: number, toBucket: number): { bucket: number; groupKey: string; value: string }[] {
    return (this.stmt.uniques.all(tenantId, meter, customerId, fromBucket, toBucket) as [number, string, string][]).map(([bucket, groupKey, value]) => ({ bucket, groupKey, value }))
  }
}

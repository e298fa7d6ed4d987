// Meter rollups and their unique values as rows, for readers.
import type { RollupReads, RollupRecord } from '../../meters/storage.js'
import type { Sql } from './sql.js'

interface Row {
  bucket: number
  group_key: string
  count: number
  sum: string | null
  min: string | null
  max: string | null
  latest_ts: number | null
  latest_id: string | null
  latest_value: string | null
}

const WHERE = 'WHERE tenant_id = $1 AND meter = $2 AND customer_id = $3 AND bucket >= $4 AND bucket < $5'

export class PgRollupReads implements RollupReads {
  constructor(private readonly sql: Sql) {}

  async rollups(tenantId: number, meter: string, customerId: string, fromBucket: number, toBucket: number, countsOnly: boolean): Promise<RollupRecord[]> {
    const values = [tenantId, meter, customerId, fromBucket, toBucket]
    if (countsOnly) {
      const rows = await this.sql.rows<Row>('rollups_counts', `SELECT bucket, group_key, count, sum FROM meter_rollups ${WHERE}`, values)
      return rows.map((r) => ({ bucket: r.bucket, groupKey: r.group_key, count: r.count, sum: r.sum, min: null, max: null, latestTs: null, latestId: null, latestValue: null }))
    }
    const rows = await this.sql.rows<Row>(
      'rollups_full', `SELECT bucket, group_key, count, sum, min, max, latest_ts, latest_id, latest_value FROM meter_rollups ${WHERE}`, values,
    )
    return rows.map((r) => ({
      bucket: r.bucket, groupKey: r.group_key, count: r.count, sum: r.sum, min: r.min, max: r.max, latestTs: r.latest_ts, latestId: r.latest_id, latestValue: r.latest_value,
    }))
  }

  async uniques(tenantId: number, meter: string, customerId: string, fromBucket: number, toBucket: number): Promise<{ bucket: number; groupKey: string; value: string }[]> {
    const rows = await this.sql.rows<{ bucket: number; group_key: string; value: string }>(
      'rollups_uniques', `SELECT bucket, group_key, value FROM meter_uniques ${WHERE}`, [tenantId, meter, customerId, fromBucket, toBucket],
    )
    return rows.map((r) => ({ bucket: r.bucket, groupKey: r.group_key, value: r.value }))
  }
}

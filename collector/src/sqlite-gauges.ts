// The store figures of /metrics for the SQLite store: cheap reads (an index count, two
// watermarks, file sizes), made at each scrape on the main connection.
import { statSync } from 'node:fs'
import type { SqliteStore } from '@meterkit/engine'
import type { StoreGauges } from './metrics.js'

function fileBytes(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0 // no log file right after a truncating checkpoint
  }
}

export function sqliteGauges(store: SqliteStore): StoreGauges {
  const backlog = store.db.prepare("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'").pluck()
  // Rollups and the customer index share one watermark; credit deductions have their own.
  const lag = store.db.prepare(
    `SELECT (SELECT coalesce(max(seq), 0) FROM events) - (SELECT seq FROM index_state WHERE name = 'customer_events') AS rollups,
            (SELECT coalesce(max(seq), 0) FROM events) - (SELECT seq FROM index_state WHERE name = 'credits') AS credits`,
  )
  return {
    webhookBacklog: () => backlog.get() as number,
    foldLag: () => lag.get() as { rollups: number; credits: number },
    databaseBytes: () => ({ main: fileBytes(store.path), wal: fileBytes(`${store.path}-wal`) }),
  }
}

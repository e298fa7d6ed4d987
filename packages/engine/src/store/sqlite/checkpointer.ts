// WAL checkpoints on their own thread: copying the log back into the database (and its fsync)
// then never stalls the ingest commits, which only append to the log.
import { statSync } from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'

const { path, intervalMs, maxWalBytes } = workerData as { path: string; intervalMs: number; maxWalBytes: number }

function walBytes(): number {
  try {
    return statSync(`${path}-wal`).size
  } catch {
    return 0
  }
}
const db = new Database(path)
db.pragma('busy_timeout = 5000')
db.pragma('synchronous = FULL')

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
    // Under steady writes a passive checkpoint never finds the log idle, so the log would only
    // grow: past the cap, hold writers back for a moment and start the log over.
    if (walBytes() > maxWalBytes) db.pragma('wal_checkpoint(TRUNCATE)')
  } catch {
    // Busy or I/O trouble: the next tick tries again; the log only grows meanwhile.
  }
}, intervalMs)

parentPort!.on('message', (msg: { type: 'close' }) => {
  if (msg.type !== 'close') return
  clearInterval(timer)
  try {
    db.pragma('wal_checkpoint(TRUNCATE)')
  } catch {
    // Left for the next open.
  }
  db.close()
  parentPort!.close()
})

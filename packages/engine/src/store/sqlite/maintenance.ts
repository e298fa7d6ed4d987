// The maintenance thread: folds new events into the customer index and the meter rollups, and
// checkpoints the WAL, on its own connection. Neither then stalls the ingest commits of the
// writer thread, which only append events.
import { statSync } from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'
import { openDatabase } from './connection.js'
import { CreditsService } from '../../credits/credits-service.js'
import { foldDerivedAll } from '../../fold-pass.js'
import { SqliteStorage } from './sqlite-storage.js'
import { sqliteTx } from './sqlite-tx.js'

const { path, foldIntervalMs, checkpointIntervalMs, maxWalBytes } = workerData as {
  path: string
  foldIntervalMs: number
  checkpointIntervalMs: number
  maxWalBytes: number
}
const db = openDatabase(path, { busyTimeoutMs: 30_000 })
db.pragma('wal_autocheckpoint = 0')
const storage = new SqliteStorage(db, sqliteTx(db))
const credits = new CreditsService(storage)

function walBytes(): number {
  try {
    return statSync(`${path}-wal`).size
  } catch {
    return 0
  }
}

let folding = false

async function foldAll(): Promise<void> {
  if (folding) return
  folding = true
  try {
    // One read of the new events serves the rollups and the credits; the write lock is held only
    // to write them, so the writer thread's commits wait on it briefly.
    await foldDerivedAll(storage, credits)
  } catch (err) {
    // Retried on the next tick; readers fold the events past the watermark themselves.
    console.error(JSON.stringify({ level: 'warn', message: 'folding derived state failed; will retry', error: String(err) }))
  } finally {
    folding = false
  }
}

function checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): void {
  try {
    db.pragma(`wal_checkpoint(${mode})`)
    // Under steady writes a passive checkpoint never finds the log idle, so the log would only
    // grow: past the cap, hold writers back for a moment and start the log over.
    if (mode === 'PASSIVE' && walBytes() > maxWalBytes) db.pragma('wal_checkpoint(TRUNCATE)')
  } catch {
    // Busy or I/O trouble: the next tick tries again; the log only grows meanwhile.
  }
}

const foldTimer = setInterval(() => void foldAll(), foldIntervalMs)
const checkpointTimer = setInterval(() => checkpoint('PASSIVE'), checkpointIntervalMs)

parentPort!.on('message', (msg: { type: 'close' }) => {
  if (msg.type !== 'close') return
  clearInterval(foldTimer)
  clearInterval(checkpointTimer)
  const last = async () => {
    while (folding) await new Promise((resolve) => setImmediate(resolve))
    await foldAll()
    checkpoint('TRUNCATE')
    db.close()
    parentPort!.close()
  }
  void last()
})

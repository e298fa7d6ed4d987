// The writer thread: owns the database's write connection for ingest, so SQLite work runs
// beside the HTTP and JSON work of the main thread instead of taking turns with it.
import { parentPort, workerData } from 'node:worker_threads'
import { openDatabase } from './connection.js'
import { EventWriter, type RowBatch } from './event-writer.js'
import { GroupCommitter } from './group-commit.js'

export type WriterRequest = { type: 'write'; id: number; batch: RowBatch } | { type: 'close' }
export type WriterReply =
  | { type: 'written'; id: number; outcomes: Uint8Array }
  | { type: 'failed'; id: number; message: string; code: string | undefined }
  | { type: 'closed' }

const port = parentPort!
const db = openDatabase((workerData as { path: string }).path)
// Checkpoints run on their own thread (maintenance.ts).
db.pragma('wal_autocheckpoint = 0')
// The maintenance thread folds derived state (maintenance.ts).
const committer = new GroupCommitter(new EventWriter(db))

port.on('message', (msg: WriterRequest) => {
  if (msg.type === 'close') {
    void committer.close().then(() => {
      db.close()
      port.postMessage({ type: 'closed' } satisfies WriterReply)
      port.close()
    })
    return
  }
  committer.submit(msg.batch).then(
    (outcomes) => port.postMessage({ type: 'written', id: msg.id, outcomes } satisfies WriterReply, [outcomes.buffer as ArrayBuffer]),
    (err: unknown) => port.postMessage({
      type: 'failed',
      id: msg.id,
      message: err instanceof Error ? err.message : String(err),
      code: (err as { code?: string }).code,
    } satisfies WriterReply),
  )
})

// The main-thread side of the writer worker: sends row batches, answers each with its outcomes.
import { Worker } from 'node:worker_threads'
import type { RowBatch } from './event-writer.js'
import type { WriterReply, WriterRequest } from './writer-worker.js'

export class StoreWriteError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message)
  }
}

export class WriterThread {
  private readonly worker: Worker
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (o: Uint8Array) => void; reject: (e: unknown) => void }>()
  private closed: Promise<void> | undefined
  private failure: Error | undefined

  private readonly maintenance: Worker

  constructor(path: string, workerUrl: URL) {
    this.worker = new Worker(workerUrl, { workerData: { path } })
    this.maintenance = new Worker(new URL('./maintenance.js', workerUrl), {
      workerData: { path, foldIntervalMs: 100, checkpointIntervalMs: 500, maxWalBytes: 64 * 1024 * 1024 },
    })
    this.maintenance.unref()
    this.worker.on('message', (msg: WriterReply) => {
      if (msg.type === 'closed') return
      const w = this.waiting.get(msg.id)
      this.waiting.delete(msg.id)
      if (msg.type === 'written') w?.resolve(msg.outcomes)
      else w?.reject(new StoreWriteError(msg.message, msg.code))
    })
    this.worker.on('error', (err) => this.fail(err))
    this.worker.on('exit', (code) => this.fail(new Error(`the writer thread exited (code ${code})`)))
  }

  private fail(err: Error): void {
    this.failure ??= err
    for (const w of this.waiting.values()) w.reject(err)
    this.waiting.clear()
  }

  write(batch: RowBatch): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      this.worker.postMessage({ type: 'write', id, batch } satisfies WriterRequest)
    })
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.failure) return resolve()
      this.worker.once('exit', () => resolve())
      this.worker.postMessage({ type: 'close' } satisfies WriterRequest)
    }).then(() => new Promise<void>((resolve) => {
      // Unref'd while running so an idle process can exit; held while it folds the rest.
      this.maintenance.ref()
      this.maintenance.once('exit', () => resolve())
      this.maintenance.postMessage({ type: 'close' })
    }))
    return this.closed
  }
}

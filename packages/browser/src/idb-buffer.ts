// The browser's durable buffer: events kept in IndexedDB survive reloads and go out on the next
// load. Records are mirrored in memory so that reads are instant and an append starts its
// transaction at once (inside a pagehide handler, while the page still runs). A new page adopts
// every record it finds, those of tabs still open included: sending one twice is harmless (ids
// deduplicate), losing one is not.
import type { BufferedEvent, EventBuffer, SerializedEvent } from '@meterkit/core'

const STORE = 'events'

interface Row {
  /** The record's key, given by IndexedDB in append order. */
  k?: number
  id: string
  json: string
  bytes: number
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'))
  })
}

export class IdbBuffer implements EventBuffer {
  readonly #db: Promise<IDBDatabase>
  /** Records not handed out yet, oldest first. */
  #waiting: (BufferedEvent & Row)[] = []
  #size = 0

  readonly #maxEvents: number

  constructor(name: string, maxEvents: number) {
    this.#maxEvents = maxEvents
    this.#db = new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open(name, 1)
      open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: 'k', autoIncrement: true })
      open.onsuccess = () => resolve(open.result)
      open.onerror = () => reject(open.error)
    })
    // What earlier pages left comes first.
    const loaded = this.#db.then((db) => new Promise<Row[]>((resolve, reject) => {
      const all = db.transaction(STORE).objectStore(STORE).getAll()
      all.onsuccess = () => resolve(all.result as Row[])
      all.onerror = () => reject(all.error)
    }))
    this.#ready = loaded.then((rows) => {
      this.#waiting = [...rows.map((r) => ({ ...r, token: 0 })), ...this.#waiting]
      this.#size += rows.length
    })
  }

  readonly #ready: Promise<void>

  get size(): number {
    return this.#size
  }

  async append(events: readonly SerializedEvent[]): Promise<{ refused: SerializedEvent[] }> {
    const room = Math.max(0, this.#maxEvents - this.#size)
    const kept: (BufferedEvent & Row)[] = events.slice(0, room).map((e) => ({ id: e.id, json: e.json, bytes: e.bytes, token: 0 }))
    const db = await this.#db
    const tx = db.transaction(STORE, 'readwrite')
    const store = tx.objectStore(STORE)
    for (const e of kept) {
      const put = store.add({ id: e.id, json: e.json, bytes: e.bytes })
      put.onsuccess = () => (e.k = put.result as number)
    }
    await done(tx)
    this.#waiting.push(...kept)
    this.#size += kept.length
    return { refused: events.slice(room) }
  }

  async read(maxEvents: number, maxBytes: number): Promise<BufferedEvent[]> {
    await this.#ready
    let n = 0
    let bytes = 0
    while (n < this.#waiting.length && n < maxEvents && (n === 0 || bytes + this.#waiting[n]!.bytes <= maxBytes)) bytes += this.#waiting[n++]!.bytes
    return this.#waiting.splice(0, n)
  }

  async ack(events: readonly BufferedEvent[]): Promise<void> {
    const db = await this.#db
    const tx = db.transaction(STORE, 'readwrite')
    const store = tx.objectStore(STORE)
    for (const e of events) store.delete((e as BufferedEvent & Row).k!)
    await done(tx)
    this.#size -= events.length
  }

  async close(): Promise<void> {
    ;(await this.#db.catch(() => undefined))?.close()
  }
}

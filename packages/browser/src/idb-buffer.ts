// The browser's durable buffer: events kept in IndexedDB survive reloads and go out on the next
// load. Records are mirrored in memory so that reads are instant. A page being left abandons
// its IndexedDB writes (measured in Chromium: none survives), so what must be kept then
// (appendNow) goes to localStorage, which writes at once, and stays there until acknowledged.
// A new page adopts every record it finds, those of tabs still open included: sending one
// twice is harmless (ids deduplicate), losing one is not.
import type { BufferedEvent, EventBuffer, SerializedEvent } from '@meterkit/core'

const STORE = 'events'

interface Held extends BufferedEvent {
  /** The record's key, given by IndexedDB in append order once written. */
  k?: number
  /** Kept in localStorage (by a page being left) rather than IndexedDB. */
  s?: boolean
}

const row = (e: SerializedEvent) => ({ id: e.id, json: e.json, bytes: e.bytes })

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = tx.onabort = () => reject(tx.error)
  })
}

export class IdbBuffer implements EventBuffer {
  readonly #db: Promise<IDBDatabase>
  readonly #ready: Promise<void>
  readonly #maxEvents: number
  /** The localStorage key of events kept while the page was being left. */
  readonly #spillKey: string
  /** Records not handed out yet, oldest first. */
  #waiting: Held[] = []
  #size = 0

  constructor(name: string, maxEvents: number) {
    this.#maxEvents = maxEvents
    this.#spillKey = name
    this.#db = new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open(name, 1)
      open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: 'k', autoIncrement: true })
      open.onsuccess = () => resolve(open.result)
      open.onerror = () => reject(open.error)
    })
    // What earlier pages left comes first.
    this.#ready = this.#db.then((db) => new Promise<void>((resolve, reject) => {
      const all = db.transaction(STORE).objectStore(STORE).getAll()
      all.onsuccess = () => {
        const found = [...(all.result as Held[]), ...this.#spilled().map((e) => ({ ...e, token: 0, s: true }))]
        this.#waiting = [...found, ...this.#waiting]
        this.#size += found.length
        resolve()
      }
      all.onerror = () => reject(all.error)
    }))
  }

  get size(): number {
    return this.#size
  }

  async append(events: readonly SerializedEvent[]): Promise<{ refused: SerializedEvent[] }> {
    const room = Math.max(0, this.#maxEvents - this.#size)
    const kept: Held[] = events.slice(0, room).map((e) => ({ ...row(e), token: 0 }))
    const tx = (await this.#db).transaction(STORE, 'readwrite')
    const store = tx.objectStore(STORE)
    for (const e of kept) {
      const add = store.add(row(e))
      add.onsuccess = () => (e.k = add.result as number)
    }
    await committed(tx)
    this.#waiting.push(...kept)
    this.#size += kept.length
    return { refused: events.slice(room) }
  }

  appendNow(events: readonly SerializedEvent[]): boolean {
    if (this.#size + events.length > this.#maxEvents) return false
    try {
      localStorage.setItem(this.#spillKey, JSON.stringify([...this.#spilled(), ...events.map(row)]))
    } catch {
      return false // storage full or disabled
    }
    // If the page lives on after all, they are sent from here.
    this.#waiting.push(...events.map((e) => ({ ...row(e), token: 0, s: true })))
    this.#size += events.length
    return true
  }

  async read(maxEvents: number, maxBytes: number): Promise<BufferedEvent[]> {
    await this.#ready
    let n = 0
    let bytes = 0
    while (n < this.#waiting.length && n < maxEvents && (n === 0 || bytes + this.#waiting[n]!.bytes <= maxBytes)) bytes += this.#waiting[n++]!.bytes
    return this.#waiting.splice(0, n)
  }

  async ack(events: readonly BufferedEvent[]): Promise<void> {
    const held = events as Held[]
    const spilled = new Set(held.filter((e) => e.s).map((e) => e.id))
    if (spilled.size > 0) {
      const left = this.#spilled().filter((e) => !spilled.has(e.id))
      if (left.length > 0) localStorage.setItem(this.#spillKey, JSON.stringify(left))
      else localStorage.removeItem(this.#spillKey)
    }
    if (held.some((e) => e.k !== undefined)) {
      const tx = (await this.#db).transaction(STORE, 'readwrite')
      const store = tx.objectStore(STORE)
      for (const e of held) if (e.k !== undefined) store.delete(e.k)
      await committed(tx)
    }
    this.#size -= events.length
  }

  async close(): Promise<void> {
    ;(await this.#db.catch(() => undefined))?.close()
  }

  /** Events kept in localStorage by a page being left. */
  #spilled(): ReturnType<typeof row>[] {
    try {
      return JSON.parse(localStorage.getItem(this.#spillKey) ?? '[]') as ReturnType<typeof row>[]
    } catch {
      return []
    }
  }
}

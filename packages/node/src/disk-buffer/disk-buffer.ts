// The Node disk buffer: append-only segment files of checksummed records under `bufferDir`.
// Invariants: an append resolves only after fsync; a segment is deleted only when every record
// in it was acknowledged (or given up) and none is left unread; torn or corrupt records are
// skipped and counted; the whole buffer stays under `maxBytes`, refusing the newest events past it.
import { mkdirSync } from 'node:fs'
import { open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { MeterkitBufferError, type BufferedEvent, type EventBuffer, type SerializedEvent } from '@meterkit/core'
import { acquireLock } from './lock.js'
import { decodeRecords, encodeRecord } from './record.js'

export interface DiskBufferOptions {
  dir: string
  /** Total size cap of the segment files (default 256 MiB). */
  maxBytes?: number
  /** A segment is closed for appends past this size (default 4 MiB). */
  segmentBytes?: number
  /** Damaged records and I/O failures are reported here. */
  onError?: (error: MeterkitBufferError) => void
}

export interface DiskBufferStats {
  segments: number
  bytes: number
  events: number
  /** Complete records that failed their checksum, found on recovery or while reading. */
  corruptRecords: number
  /** Incomplete last records (a write cut short by a crash), found on recovery. */
  tornRecords: number
}

interface Segment {
  readonly seq: number
  readonly path: string
  /** Bytes on disk. */
  fileBytes: number
  /** Bytes holding complete records (a torn tail lies past it). */
  end: number
  /** Next byte to hand out. */
  readOffset: number
  /** Valid records in the segment, and how many of them are settled. */
  total: number
  done: number
  /** Found on disk at start (its damaged records were counted then). */
  recovered: boolean
}

const SEGMENT_NAME = /^segment-(\d{12})\.log$/
const MIN_READ_CHUNK = 64 * 1024

export const DEFAULT_MAX_BUFFER_BYTES = 256 * 1024 * 1024

export class DiskBuffer implements EventBuffer {
  readonly dir: string
  private readonly maxBytes: number
  private readonly segmentBytes: number
  private readonly onError: ((error: MeterkitBufferError) => void) | undefined
  private readonly releaseLock: () => void
  private readonly ready: Promise<void>
  private readonly segments: Segment[] = []
  private readonly bySeq = new Map<number, Segment>()
  private active: { segment: Segment; handle: FileHandle } | undefined
  /** Appends, rotations and deletions of the active segment run one at a time. */
  private chain: Promise<unknown>
  private nextSeq = 1
  private totalBytes = 0
  private held = 0
  private corrupt = 0
  private torn = 0
  private closed = false
  /** Segment deletions under way (close() waits for them). */
  private readonly deletions = new Set<Promise<void>>()

  /** Takes the folder's lock synchronously (throws MeterkitBufferLockedError if taken), then recovers. */
  constructor(options: DiskBufferOptions) {
    this.dir = options.dir
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BUFFER_BYTES
    this.segmentBytes = options.segmentBytes ?? 4 * 1024 * 1024
    this.onError = options.onError
    mkdirSync(this.dir, { recursive: true })
    this.releaseLock = acquireLock(this.dir)
    this.ready = this.recover()
    this.chain = this.ready
  }

  get size(): number {
    return this.held
  }

  /** Resolves once the segments found on start are scanned. */
  whenReady(): Promise<void> {
    return this.ready
  }

  stats(): DiskBufferStats {
    return { segments: this.segments.length, bytes: this.totalBytes, events: this.held, corruptRecords: this.corrupt, tornRecords: this.torn }
  }

  private report(code: string, message: string): void {
    try {
      this.onError?.(new MeterkitBufferError(code, message))
    } catch {
      // user callbacks never break the buffer
    }
  }

  private async recover(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => SEGMENT_NAME.test(n)).sort()
    for (const name of names) {
      const seq = Number(SEGMENT_NAME.exec(name)![1])
      const path = join(this.dir, name)
      const data = await readFile(path)
      const { records, consumed, corrupt } = decodeRecords(data)
      const tornBytes = data.length - consumed
      this.nextSeq = Math.max(this.nextSeq, seq + 1)
      if (corrupt > 0) this.report('buffer_corrupt_record', `${corrupt} corrupt record(s) skipped in ${path}`)
      if (tornBytes > 0) this.report('buffer_torn_record', `torn last record (${tornBytes} bytes) skipped in ${path}`)
      this.corrupt += corrupt
      if (tornBytes > 0) this.torn++
      if (records.length === 0) {
        await unlink(path)
        continue
      }
      const segment: Segment = {
        seq, path, fileBytes: data.length, end: consumed, readOffset: 0, total: records.length, done: 0, recovered: true,
      }
      this.addSegment(segment)
      this.held += records.length
    }
  }

  private addSegment(segment: Segment): void {
    this.segments.push(segment)
    this.bySeq.set(segment.seq, segment)
    this.totalBytes += segment.fileBytes
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task)
    this.chain = run.catch(() => {})
    return run
  }

  append(events: readonly SerializedEvent[]): Promise<{ refused: SerializedEvent[] }> {
    return this.serial(async () => {
      if (this.closed) throw new MeterkitBufferError('buffer_closed', 'the disk buffer is closed')
      const lines: Buffer[] = []
      const refused: SerializedEvent[] = []
      let bytes = 0
      for (const event of events) {
        const line = encodeRecord(event)
        if (refused.length > 0 || this.totalBytes + bytes + line.length > this.maxBytes) refused.push(event)
        else {
          lines.push(line)
          bytes += line.length
        }
      }
      if (lines.length === 0) return { refused }
      const { segment, handle } = await this.writable(bytes)
      const data = lines.length === 1 ? lines[0]! : Buffer.concat(lines, bytes)
      let written = 0
      while (written < data.length) {
        const { bytesWritten } = await handle.write(data, written, data.length - written, segment.fileBytes + written)
        written += bytesWritten
      }
      await handle.datasync()
      segment.fileBytes += bytes
      segment.end += bytes
      segment.total += lines.length
      this.totalBytes += bytes
      this.held += lines.length
      return { refused }
    })
  }

  /** The segment to append to: the active one, or a new one once it is full. */
  private async writable(bytes: number): Promise<{ segment: Segment; handle: FileHandle }> {
    if (this.active !== undefined && this.active.segment.fileBytes + bytes > this.segmentBytes && this.active.segment.fileBytes > 0) {
      await this.active.handle.close()
      this.active = undefined
      this.maybeDelete() // a sealed segment may be done already
    }
    if (this.active === undefined) {
      const seq = this.nextSeq++
      const path = join(this.dir, `segment-${String(seq).padStart(12, '0')}.log`)
      const handle = await open(path, 'wx')
      await syncDir(this.dir) // the new file's name must survive a crash too
      const segment: Segment = { seq, path, fileBytes: 0, end: 0, readOffset: 0, total: 0, done: 0, recovered: false }
      this.addSegment(segment)
      this.active = { segment, handle }
    }
    return this.active
  }

  async read(maxEvents: number, maxBytes: number): Promise<BufferedEvent[]> {
    await this.ready
    const out: BufferedEvent[] = []
    let bytes = 0
    for (const segment of [...this.segments]) {
      while (segment.readOffset < segment.end && out.length < maxEvents && !this.closed) {
        const length = Math.min(segment.end - segment.readOffset, Math.max(MIN_READ_CHUNK, maxBytes - bytes + MIN_READ_CHUNK))
        const chunk = Buffer.allocUnsafe(length)
        const handle = await open(segment.path, 'r')
        try {
          await handle.read(chunk, 0, length, segment.readOffset)
        } finally {
          await handle.close()
        }
        const { records, consumed, corrupt } = decodeRecords(chunk, maxEvents - out.length, maxBytes - bytes, out.length === 0)
        if (corrupt > 0 && !segment.recovered) {
          // Damaged after it was written: counted now and settled, so the segment can go.
          this.corrupt += corrupt
          segment.done += corrupt
          this.held -= corrupt
          this.report('buffer_corrupt_record', `${corrupt} corrupt record(s) skipped in ${segment.path}`)
        }
        segment.readOffset += consumed
        for (const r of records) {
          out.push({ id: r.id, json: r.json, bytes: r.bytes, token: segment.seq })
          bytes += r.bytes
        }
        // Nothing decodable fits (limits reached) or the chunk held no complete line.
        if (consumed === 0 || (records.length === 0 && corrupt === 0)) break
        if (bytes >= maxBytes) break
      }
      if (out.length >= maxEvents || bytes >= maxBytes) break
      if (segment.readOffset < segment.end) break // limits reached inside this segment
    }
    this.maybeDelete()
    return out
  }

  async ack(events: readonly BufferedEvent[]): Promise<void> {
    for (const event of events) {
      const segment = this.bySeq.get(event.token)
      if (segment === undefined) continue
      segment.done++
      this.held--
    }
    this.maybeDelete()
    await Promise.allSettled([...this.deletions])
  }

  /** Deletes every segment whose records are all handed out and settled. */
  private maybeDelete(): void {
    for (const segment of [...this.segments]) {
      if (segment.done < segment.total || segment.readOffset < segment.end) continue
      if (this.active?.segment === segment) {
        // The segment being appended to: seal it through the append queue, then delete.
        this.track(this.serial(async () => {
          if (this.active?.segment !== segment || segment.done < segment.total || segment.readOffset < segment.end) return
          await this.active.handle.close()
          this.active = undefined
          await this.remove(segment)
        }))
        continue
      }
      this.track(this.remove(segment))
    }
  }

  private track(deletion: Promise<void>): void {
    const settled = deletion.catch(() => {}).finally(() => this.deletions.delete(settled))
    this.deletions.add(settled)
  }

  private async remove(segment: Segment): Promise<void> {
    if (!this.bySeq.delete(segment.seq)) return
    this.segments.splice(this.segments.indexOf(segment), 1)
    this.totalBytes -= segment.fileBytes
    try {
      await unlink(segment.path)
    } catch (err) {
      this.report('buffer_delete_failed', `could not delete ${segment.path}: ${(err as Error).message}`)
    }
  }

  /** Waits for pending writes, closes files and releases the folder's lock. */
  async close(): Promise<void> {
    if (this.closed) return
    await Promise.allSettled([...this.deletions])
    await this.serial(async () => {
      this.closed = true
      if (this.active !== undefined) {
        await this.active.handle.close()
        this.active = undefined
      }
    })
    this.releaseLock()
  }
}

async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch {
    // Some file systems cannot fsync a directory; the data itself is synced.
  } finally {
    await handle?.close()
  }
}

// @meterkit/node: the Meterkit client for Node.js. Core does queueing, batching and retries;
// this package wires in the undici transport, the disk buffer and signal handling.
import {
  type CallContext, Meterkit as CoreMeterkit, MeterkitBufferError, type MeterkitCoreOptions, type Release, type Reservation, type ReserveInput,
  releaseCredits, reserveCredits, systemClock, systemTimers,
} from '@meterkit/core'
import type { Dispatcher } from 'undici'
import { DiskBuffer } from './disk-buffer/index.js'
import { UndiciTransport } from './undici-transport.js'

export interface MeterkitOptions extends Omit<MeterkitCoreOptions, 'transport' | 'buffer'> {
  /** Collector base URL, e.g. http://127.0.0.1:8790 */
  endpoint: string
  /** Secret key (`mk_sec_…`). */
  apiKey: string
  /** Per request, body read included (default 10000). */
  timeoutMs?: number
  /** Folder for the disk buffer; unset = memory only. One process per folder. */
  bufferDir?: string
  /** Disk buffer size cap (default 256 MiB). */
  maxBufferBytes?: number
  /** undici dispatcher to send through (tests: MockAgent); default a private keep-alive pool. */
  dispatcher?: Dispatcher
}

export class Meterkit extends CoreMeterkit {
  readonly #api: CallContext

  constructor(options: MeterkitOptions) {
    if (typeof options?.endpoint !== 'string' || typeof options.apiKey !== 'string') {
      throw new TypeError('new Meterkit({ endpoint, apiKey }): both are required strings')
    }
    const { endpoint, apiKey, timeoutMs, bufferDir, maxBufferBytes, dispatcher, ...core } = options
    const transport = new UndiciTransport({ endpoint, apiKey, timeoutMs, dispatcher })
    const buffer = bufferDir === undefined
      ? undefined
      : new DiskBuffer({
          dir: bufferDir,
          maxBytes: maxBufferBytes,
          onError: (err: MeterkitBufferError) => {
            try {
              options.onError?.(err)
            } catch {
              // never into the caller
            }
          },
        })
    super({ ...core, transport, buffer })
    this.#api = { transport, clock: core.clock ?? systemClock, timers: core.timers ?? systemTimers, random: core.random ?? Math.random }
  }

  /**
   * Holds credits for a job before it starts: `{ id, granted, available }` (available after the
   * hold). Track the job's event with `reservationId: id` to settle it; `release(id)` if it fails.
   */
  reserve(input: ReserveInput): Promise<Reservation> {
    return reserveCredits(this.#api, input)
  }

  /** Frees a reservation's hold (the job failed or was cancelled). */
  release(id: string): Promise<Release> {
    return releaseCredits(this.#api, id)
  }
}

export { UndiciTransport, type UndiciTransportOptions } from './undici-transport.js'
export { DiskBuffer, MeterkitBufferLockedError, DEFAULT_MAX_BUFFER_BYTES, type DiskBufferOptions, type DiskBufferStats } from './disk-buffer/index.js'
export { shutdownOnSignals, type SignalOptions } from './shutdown.js'
export {
  MeterkitError,
  MeterkitValidationError,
  MeterkitEventError,
  MeterkitDeliveryError,
  MeterkitBufferError,
  type DropReason,
  type MeterkitStats,
  type TrackInput,
  type ReserveInput,
  type Reservation,
  type Release,
} from '@meterkit/core'

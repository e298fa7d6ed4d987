// @meterkit/core: the runtime-neutral Meterkit client. Runtime packages subclass `Meterkit`
// (node, browser: with a buffer) or `MeterkitBase` (edge: memory only) and pass in their
// transport, buffer, clock and timers.
export { Meterkit } from './client.js'
export { MeterkitBase } from './base-client.js'
export { DEFAULTS, type MeterkitCoreOptions } from './options.js'
export type { TrackInput, SerializedEvent } from './event.js'
export { serializeEvent, QueuedEvent } from './event.js'
export type { MeterkitStats } from './stats.js'
export type { ApiRequest, Transport, TransportRequest, TransportResult } from './transport.js'
export { FetchTransport, type FetchLike, type FetchTransportOptions } from './fetch-transport.js'
export type { EventBuffer, BufferedEvent } from './buffer.js'
export type { Clock, Timers } from './time.js'
export { systemClock, systemTimers } from './time.js'
export type { ErrorHandler, DropHandler } from './delivery.js'
export {
  MeterkitError,
  MeterkitValidationError,
  MeterkitEventError,
  MeterkitDeliveryError,
  MeterkitBufferError,
  type DropReason,
} from './errors.js'
export { backoffMs, isRetryableStatus, parseRetryAfter, BACKOFF_BASE_MS, BACKOFF_CAP_MS } from './retry.js'
export { batchLimits, takeBatch, encodeBatch, bodyBytes } from './batcher.js'
export { newEventId } from './ids.js'
export { reserveCredits, releaseCredits, type ReserveInput, type Reservation, type Release } from './reservations.js'
export type { CallContext } from './api-call.js'

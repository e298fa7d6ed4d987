// Errors the client raises: only MeterkitValidationError is ever thrown into the caller (by
// track(), for programmer errors); the others reach the user through `onError`.

export class MeterkitError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = new.target.name
    this.code = code
  }
}

/** A programmer error in the event passed to track(): thrown synchronously. */
export class MeterkitValidationError extends MeterkitError {
  readonly field: string
  constructor(field: string, message: string) {
    super('invalid_event', `${field}: ${message}`)
    this.field = field
  }
}

/** The collector answered `rejected` or `conflict` for one event; it is never retried. */
export class MeterkitEventError extends MeterkitError {
  readonly eventId: string
  readonly status: 'rejected' | 'conflict'
  constructor(eventId: string, status: 'rejected' | 'conflict', code: string, message: string) {
    super(code, `event ${eventId} ${status}: ${message}`)
    this.eventId = eventId
    this.status = status
  }
}

/** A whole request failed (network, timeout, HTTP error); `willRetry` says what happens next. */
export class MeterkitDeliveryError extends MeterkitError {
  readonly httpStatus: number | undefined
  readonly eventCount: number
  constructor(code: string, message: string, eventCount: number, httpStatus?: number) {
    super(code, message)
    this.eventCount = eventCount
    this.httpStatus = httpStatus
  }
}

/** The disk buffer failed or found damaged records. */
export class MeterkitBufferError extends MeterkitError {}

/** Why events were given up (the second argument of `onDrop`). */
export type DropReason =
  | 'queue_full' // memory cap reached and no buffer
  | 'buffer_full' // disk buffer size cap reached
  | 'retries_exhausted' // maxRetries attempts failed and no buffer
  | 'request_rejected' // the collector refused the whole request with a non-retryable 4xx
  | 'event_too_large' // a single event was answered 413
  | 'shutdown' // still in memory when shutdown() gave up, and no buffer
  | 'closed' // tracked after shutdown()

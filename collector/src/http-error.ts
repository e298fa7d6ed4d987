// Whole-request errors: thrown by middleware and routes, answered as the contract's error body.
import { REQUEST_ERROR_STATUS, type RequestErrorCode } from '@meterkit/protocol'

export class HttpError extends Error {
  readonly status: number
  constructor(
    readonly code: RequestErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message)
    this.status = REQUEST_ERROR_STATUS[code]
  }
}

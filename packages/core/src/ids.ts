// Event ids: UUIDv7 (time-ordered) unless the caller supplies an idempotency key.
import { v7 } from 'uuid'

export function newEventId(): string {
  return v7()
}

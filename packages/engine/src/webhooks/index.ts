// Webhooks: Standard Webhooks signing and verification, the event payloads, and the durable
// outbox that delivers them at least once.
export * from './signing.js'
export * from './payloads.js'
export * from './backoff.js'
export * from './model.js'
export { WebhookOutbox, type WebhookOutboxOptions } from './outbox.js'
export { SqliteWebhookStore } from './webhook-store.js'
export { DELIVERY_LEASE_MS, attemptOutcome, type AttemptOutcome } from './attempts.js'

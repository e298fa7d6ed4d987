// Every limit of the wire protocol as a named constant (CONTRACT §3, §4).
// The SDKs and the collector read the same numbers, so they cannot disagree.

export const MAX_ID_LENGTH = 128
export const MAX_EVENT_NAME_LENGTH = 128
export const MAX_CUSTOMER_ID_LENGTH = 256
export const MAX_PROPERTY_KEYS = 100
/** `properties` itself is depth 1. */
export const MAX_PROPERTY_DEPTH = 5
export const MAX_PROPERTY_STRING_LENGTH = 4096
/** Serialized size of one event, in bytes of UTF-8 JSON. */
export const MAX_EVENT_BYTES = 32 * 1024
export const MAX_BATCH_EVENTS = 1000
/** Size of a `POST /v1/events` body after decoding (gzip), in bytes. */
export const MAX_BATCH_BYTES = 1024 * 1024
/** How far in the future an event's timestamp may lie. */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000
/** Default lateness window of `/v1/events` (`P35D`). */
export const DEFAULT_LATENESS_WINDOW = 'P35D'
export const DEFAULT_LATENESS_WINDOW_MS = 35 * 24 * 60 * 60 * 1000
/** Customer tokens live at most this long; `ttlSeconds` defaults to 900. */
export const MAX_CUSTOMER_TOKEN_TTL_SECONDS = 3600
export const DEFAULT_CUSTOMER_TOKEN_TTL_SECONDS = 900
/** A credit reservation's `ttlMs`: any positive whole number of milliseconds up to this (7 days); default 1 hour. */
export const MAX_RESERVATION_TTL_MS = 7 * 24 * 60 * 60 * 1000
export const MAX_LIST_LIMIT = 1000
export const DEFAULT_LIST_LIMIT = 100

/** Characters allowed in event ids and event names. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]+$/
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/

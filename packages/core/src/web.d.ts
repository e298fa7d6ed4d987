// The few Web-standard globals core uses, declared here because core's tsconfig carries neither
// DOM nor Node types (it must run unchanged in Node, browsers and edge runtimes).
declare function setTimeout(handler: () => void, timeoutMs?: number): unknown
declare function clearTimeout(handle: unknown): void
declare function setInterval(handler: () => void, timeoutMs?: number): unknown
declare function clearInterval(handle: unknown): void
declare function queueMicrotask(callback: () => void): void
declare const crypto: { getRandomValues<T extends Uint8Array>(array: T): T }
declare class TextEncoder {
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number }
}
declare interface AbortSignal {
  readonly aborted: boolean
}
declare class AbortController {
  readonly signal: AbortSignal
  abort(reason?: unknown): void
}

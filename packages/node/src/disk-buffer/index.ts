// The disk buffer's public door.
export { DiskBuffer, DEFAULT_MAX_BUFFER_BYTES, type DiskBufferOptions, type DiskBufferStats } from './disk-buffer.js'
export { MeterkitBufferLockedError, LOCK_FILE } from './lock.js'

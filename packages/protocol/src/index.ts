// @meterkit/protocol: everything on the wire between Meterkit clients and the collector.
export * from './limits.js'
export * from './errors.js'
export * from './event.js'
export * from './batch.js'
export * from './timestamp.js'
export * from './duration.js'
export * from './utf8.js'
export * from './config.js'

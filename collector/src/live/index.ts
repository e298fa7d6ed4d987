// Live updates over server-sent events: the hub, its usage source, and the SSE plumbing.
export { LiveHub, type LiveHubOptions, type LiveSource, type LiveTimers } from './hub.js'
export type { Keyed, LiveMessage, Subscriber } from './channel.js'
export { UsageSource, liveUsageRange } from './usage-source.js'
export { sseStream, eventFrame } from './sse.js'
export { acceptedEvents } from './accepted.js'

// @meterkit/collector: the HTTP API over the engine, and the server the `meterkit` CLI runs.
export { createApp, type AppDeps, type AppContext, type CollectorApp } from './app.js'
export { CollectorMetrics } from './metrics.js'
export { HttpError } from './http-error.js'
export { startServer, type ServerOptions, type RunningServer } from './server.js'
export { WebhookUrlPolicy, type WebhookNetworkOptions } from './webhook-url-policy.js'
export { RetentionSweeper, type RetentionOptions } from './retention.js'
export { openApiDocument, openApiJson } from './openapi/index.js'

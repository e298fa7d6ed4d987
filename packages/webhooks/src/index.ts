// @meterkit/webhooks: verify Meterkit webhooks anywhere (no Node built-ins, no native code).
export * from './signing.js'
export * from './payloads.js'

// Standard Webhooks signing and verification live in @meterkit/webhooks (no native or Node-only
// code, so receivers on edge runtimes can import it); the engine re-exports them unchanged.
export { signWebhook, verifyWebhook, webhookKey, type SignInput, type VerifyFailure, type VerifyInput, type VerifyResult, type WebhookHeaders } from '@meterkit/webhooks'

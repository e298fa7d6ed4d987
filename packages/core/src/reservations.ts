// Reservations from the SDK (node, edge): hold credits for a job before it starts, release them
// when it fails. The id is fixed here when the caller gives none, so a retried call holds once.
import { type CallContext, callJson } from './api-call.js'
import { MeterkitValidationError } from './errors.js'
import { newEventId } from './ids.js'

export interface ReserveInput {
  customerId: string
  /** Credits to hold, a decimal string (or a number, sent as its decimal form). */
  credits: string | number
  /** How long the hold lasts unless settled or released (the collector's default: 1 hour). */
  ttlMs?: number
  /** The reservation id: pass the job's id so retries in other processes hold once. */
  id?: string
}

export interface Reservation {
  id: string
  customerId: string
  credits: string
  granted: boolean
  /** Available credits after the hold. */
  available: string
  expiresAt: string
}

export interface Release {
  id: string
  released: boolean
  available: string
}

export async function reserveCredits(ctx: CallContext, input: ReserveInput): Promise<Reservation> {
  if (typeof input?.customerId !== 'string' || input.customerId === '') throw new MeterkitValidationError('customerId', 'is required')
  const credits = typeof input.credits === 'number' ? (Number.isFinite(input.credits) && input.credits >= 0 ? String(input.credits) : '') : input.credits
  if (typeof credits !== 'string' || !/^\d+(\.\d+)?$/.test(credits)) throw new MeterkitValidationError('credits', 'must be a non-negative decimal')
  const id = input.id ?? `res_${newEventId(ctx.clock.now())}`
  const body = JSON.stringify({ id, customerId: input.customerId, credits, ...(input.ttlMs === undefined ? {} : { ttlMs: input.ttlMs }) })
  return callJson<Reservation>(ctx, { method: 'POST', path: 'v1/reservations', body })
}

export async function releaseCredits(ctx: CallContext, id: string): Promise<Release> {
  if (typeof id !== 'string' || id === '') throw new MeterkitValidationError('id', 'is required')
  return callJson<Release>(ctx, { method: 'POST', path: `v1/reservations/${encodeURIComponent(id)}/release` })
}

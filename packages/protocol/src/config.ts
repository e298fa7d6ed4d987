// The tenant configuration (CONTRACT §5): meters, features, plans, billing, webhooks, browser
// origins. Validated as a whole, with cross-references checked; every problem names its path.
import { z } from 'zod'
import { ID_PATTERN, MAX_EVENT_NAME_LENGTH } from './limits.js'
import { parseDuration } from './duration.js'

const KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/
const key = z.string().regex(KEY_PATTERN, 'must be 1–64 characters of A-Za-z0-9_.:-')
const eventName = z.string().min(1).max(MAX_EVENT_NAME_LENGTH).regex(ID_PATTERN, 'must be 1–128 characters of A-Za-z0-9._:-')
const DECIMAL = /^\d+(\.\d+)?$/
/** A non-negative decimal string, never a JSON number. */
export const decimalString = z.string({ error: 'must be a decimal string such as "12.5"' }).regex(DECIMAL, 'must be a decimal string such as "12.5"')
const positiveDecimal = decimalString.refine((s) => /[1-9]/.test(s), 'must be greater than 0')
const propertyPath = z.string().regex(/^[^.\s][^\s]*$/, 'must be a dot path into properties, e.g. "gpuSeconds" or "job.frames"').max(256)
const duration = z.string().refine((s) => parseDuration(s) !== undefined, 'must be an ISO 8601 duration such as P30D or PT1H')
const jsonScalar = z.union([z.string(), z.number(), z.boolean(), z.null()])

export const AGGREGATIONS = ['sum', 'count', 'unique_count', 'max', 'min', 'latest', 'avg'] as const
export type Aggregation = (typeof AGGREGATIONS)[number]

export const meterSchema = z
  .object({
    key,
    event: eventName,
    aggregation: z.enum(AGGREGATIONS),
    property: propertyPath.optional(),
    filter: z.record(propertyPath, z.array(jsonScalar).min(1, 'must list at least one value')).optional(),
    groupBy: z.array(propertyPath).max(5, 'at most 5 dimensions').optional(),
    sources: z.array(z.enum(['server', 'browser'])).min(1).optional(),
    description: z.string().max(500).optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.aggregation !== 'count' && m.property === undefined) {
      ctx.addIssue({ code: 'custom', path: ['property'], message: `is required for aggregation "${m.aggregation}"` })
    }
    if (m.groupBy && new Set(m.groupBy).size !== m.groupBy.length) {
      ctx.addIssue({ code: 'custom', path: ['groupBy'], message: 'must not repeat a dimension' })
    }
  })
export type MeterConfig = z.infer<typeof meterSchema>

export const featureSchema = z.discriminatedUnion('type', [
  z.object({ key, type: z.literal('boolean'), description: z.string().max(500).optional() }).strict(),
  z.object({
    key,
    type: z.literal('metered'),
    meter: key,
    limit: decimalString,
    hard: z.boolean().optional(),
    description: z.string().max(500).optional(),
  }).strict(),
])
export type FeatureConfig = z.infer<typeof featureSchema>

const tier = z.object({
  upTo: decimalString.nullable(),
  unitAmount: decimalString.optional(),
  flatAmount: decimalString.optional(),
}).strict()

const tiers = z.array(tier).min(1).superRefine((list, ctx) => {
  list.forEach((t, i) => {
    if (t.unitAmount === undefined && t.flatAmount === undefined) {
      ctx.addIssue({ code: 'custom', path: [i], message: 'needs unitAmount or flatAmount' })
    }
    const last = i === list.length - 1
    if (last !== (t.upTo === null)) {
      ctx.addIssue({ code: 'custom', path: [i, 'upTo'], message: last ? 'must be null on the last tier' : 'must be a number on every tier but the last' })
    }
    const prev = list[i - 1]?.upTo
    if (i > 0 && t.upTo !== null && prev !== null && prev !== undefined && Number(t.upTo) <= Number(prev)) {
      ctx.addIssue({ code: 'custom', path: [i, 'upTo'], message: 'must be greater than the previous tier’s upTo' })
    }
  })
})

const simplePrice = z.discriminatedUnion('model', [
  z.object({ model: z.literal('per_unit'), unitAmount: decimalString }).strict(),
  z.object({ model: z.literal('package'), packageSize: positiveDecimal, amount: decimalString, round: z.enum(['up', 'down']).optional() }).strict(),
  z.object({ model: z.literal('graduated'), tiers }).strict(),
  z.object({ model: z.literal('volume'), tiers }).strict(),
])
export type SimplePrice = z.infer<typeof simplePrice>

const usageExtras = {
  key,
  meter: key,
  unit: z.literal('credits').optional(),
  freeUnits: decimalString.optional(),
  minimum: decimalString.optional(),
  maximum: decimalString.optional(),
  description: z.string().max(500).optional(),
}

export const chargeSchema = z.discriminatedUnion('model', [
  z.object({ key, model: z.literal('flat'), amount: decimalString, timing: z.enum(['advance', 'arrears']).optional(), description: z.string().max(500).optional() }).strict(),
  z.object({ ...usageExtras, model: z.literal('per_unit'), unitAmount: decimalString }).strict(),
  z.object({ ...usageExtras, model: z.literal('package'), packageSize: positiveDecimal, amount: decimalString, round: z.enum(['up', 'down']).optional() }).strict(),
  z.object({ ...usageExtras, model: z.literal('graduated'), tiers }).strict(),
  z.object({ ...usageExtras, model: z.literal('volume'), tiers }).strict(),
  z.object({ ...usageExtras, model: z.literal('dimensional'), dimension: propertyPath, prices: z.record(z.string(), simplePrice) }).strict(),
])
export type ChargeConfig = z.infer<typeof chargeSchema>

export const grantTemplateSchema = z.object({
  credits: positiveDecimal,
  recurring: duration.optional(),
  expiresAfter: duration.optional(),
  rollover: z.object({ max: decimalString }).strict().optional(),
  priority: z.number().int().min(0).max(1_000_000).optional(),
}).strict()

export const planSchema = z.object({
  key,
  name: z.string().max(200).optional(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD'),
  interval: z.enum(['day', 'week', 'month', 'year']),
  anchor: z.enum(['calendar', 'anniversary']).optional(),
  creditPrice: decimalString.optional(),
  features: z.array(key).optional(),
  charges: z.array(chargeSchema),
  grants: z.array(grantTemplateSchema).optional(),
  overage: z.enum(['invoice', 'block']).optional(),
  lowBalance: decimalString.optional(),
}).strict()
export type PlanConfig = z.infer<typeof planSchema>

export const WEBHOOK_EVENTS = ['balance.low', 'limit.reached', 'invoice.finalized', 'top_up.created'] as const

export const configSchema = z.object({
  meters: z.array(meterSchema).default([]),
  features: z.array(featureSchema).default([]),
  plans: z.array(planSchema).default([]),
  billing: z.object({ gracePeriod: duration.optional() }).strict().optional(),
  webhooks: z.array(z.object({
    url: z.url({ protocol: /^https?$/ }),
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1),
    secret: z.string().min(16, 'must be at least 16 characters'),
  }).strict()).optional(),
  browser: z.object({ origins: z.array(z.string()).optional() }).strict().optional(),
}).strict().superRefine((c, ctx) => {
  const unique = (list: { key: string }[], path: string) => {
    const seen = new Set<string>()
    list.forEach((item, i) => {
      if (seen.has(item.key)) ctx.addIssue({ code: 'custom', path: [path, i, 'key'], message: `"${item.key}" is used twice` })
      seen.add(item.key)
    })
  }
  unique(c.meters, 'meters')
  unique(c.features, 'features')
  unique(c.plans, 'plans')
  const meters = new Map(c.meters.map((m) => [m.key, m]))
  const features = new Set(c.features.map((f) => f.key))
  c.features.forEach((f, i) => {
    if (f.type === 'metered' && !meters.has(f.meter)) ctx.addIssue({ code: 'custom', path: ['features', i, 'meter'], message: `no meter "${f.meter}"` })
  })
  c.plans.forEach((p, i) => {
    p.features?.forEach((f, j) => {
      if (!features.has(f)) ctx.addIssue({ code: 'custom', path: ['plans', i, 'features', j], message: `no feature "${f}"` })
    })
    unique(p.charges, `plans.${i}.charges`)
    p.charges.forEach((charge, j) => {
      if (charge.model === 'flat') return
      const meter = meters.get(charge.meter)
      if (meter === undefined) {
        ctx.addIssue({ code: 'custom', path: ['plans', i, 'charges', j, 'meter'], message: `no meter "${charge.meter}"` })
      } else if (charge.model === 'dimensional' && !(meter.groupBy ?? []).includes(charge.dimension)) {
        ctx.addIssue({ code: 'custom', path: ['plans', i, 'charges', j, 'dimension'], message: `must be one of meter "${meter.key}"'s groupBy dimensions` })
      }
      if (charge.unit === 'credits' && p.creditPrice === undefined) {
        ctx.addIssue({ code: 'custom', path: ['plans', i, 'creditPrice'], message: 'is required when a charge is priced in credits' })
      }
    })
  })
})

export type TenantConfig = z.infer<typeof configSchema>

// A plan of a configuration, checked against the meters it reads, and the billing settings.
import { type MeterConfig, type PlanConfig, type TenantConfig, fixedDurationMs, parseDuration } from '@meterkit/protocol'

export const DEFAULT_GRACE_MS = 3_600_000

/** The plan with the given key in the configuration, and the meters its charges read. */
export function planWithMeters(config: TenantConfig, plan: PlanConfig): { plan: PlanConfig; meters: MeterConfig[] } | { error: string } {
  const keys = new Set(plan.charges.flatMap((c) => (c.model === 'flat' ? [] : [c.meter])))
  const meters = config.meters.filter((m) => keys.has(m.key))
  const missing = [...keys].filter((k) => !meters.some((m) => m.key === k))
  if (missing.length > 0) return { error: `plan: charges read meters the configuration does not have: ${missing.join(', ')}` }
  return { plan, meters }
}

export function gracePeriodMs(config: TenantConfig): number {
  const text = config.billing?.gracePeriod
  const d = text === undefined ? undefined : parseDuration(text)
  return (d && fixedDurationMs(d)) ?? DEFAULT_GRACE_MS
}

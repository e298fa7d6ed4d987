// A configuration's meters compiled for folding and reading, once per configuration object
// (stores hand out one object per tenant and version).
import type { TenantConfig } from '@meterkit/protocol'
import { type CompiledMeter, compileMeter } from './meter.js'

export interface TenantMeters {
  version: number
  config: TenantConfig
  byKey: Map<string, CompiledMeter>
  byEvent: Map<string, CompiledMeter[]>
}

export function compileConfig(version: number, config: TenantConfig): TenantMeters {
  const byKey = new Map<string, CompiledMeter>()
  const byEvent = new Map<string, CompiledMeter[]>()
  for (const m of config.meters) {
    const compiled = compileMeter(m)
    byKey.set(m.key, compiled)
    const list = byEvent.get(m.event) ?? []
    list.push(compiled)
    byEvent.set(m.event, list)
  }
  return { version, config, byKey, byEvent }
}

const cache = new WeakMap<TenantConfig, TenantMeters>()

/** The compiled meters of a configuration version, compiled once per configuration object. */
export function tenantMeters(current: { version: number; config: TenantConfig }): TenantMeters {
  let m = cache.get(current.config)
  if (m === undefined || m.version !== current.version) {
    m = compileConfig(current.version, current.config)
    cache.set(current.config, m)
  }
  return m
}

// Usage figures for live streams: for each meter, its value over the default range of the usage
// route (the last 30 days), stretched to the latest timestamp ingest accepts (5 minutes ahead)
// so that an event stamped a little ahead of the server's clock shows at once. Value only: no
// groups, no buckets. When billing periods come, this follows the usage route's default.
import type { Store } from '@meterkit/engine'
import { MAX_FUTURE_SKEW_MS } from '@meterkit/protocol'
import type { TenantConfigs } from '../tenant-configs.js'
import type { Keyed } from './channel.js'
import type { LiveSource } from './hub.js'

const DAY_MS = 86_400_000
export const LIVE_USAGE_DAYS = 30

export function liveUsageRange(nowMs: number): { fromMs: number; toMs: number } {
  return { fromMs: nowMs - LIVE_USAGE_DAYS * DAY_MS, toMs: nowMs + MAX_FUTURE_SKEW_MS }
}

export class UsageSource implements LiveSource {
  constructor(private readonly store: Store, private readonly configs: TenantConfigs) {}

  async snapshot(tenantId: number, customerId: string, nowMs: number, emit: (m: Keyed) => void): Promise<void> {
    const { config } = await this.configs.get(tenantId)
    for (const meter of config.meters) await this.read(tenantId, customerId, meter.key, nowMs, emit)
  }

  async refresh(tenantId: number, customerId: string, changed: ReadonlySet<string>, nowMs: number, emit: (m: Keyed) => void): Promise<void> {
    const { config } = await this.configs.get(tenantId)
    for (const meter of config.meters) if (changed.has(meter.event)) await this.read(tenantId, customerId, meter.key, nowMs, emit)
  }

  private async read(tenantId: number, customerId: string, meter: string, nowMs: number, emit: (m: Keyed) => void): Promise<void> {
    const usage = await this.store.usage(tenantId, { customerId, meter, ...liveUsageRange(nowMs), window: 'none', groupBy: [] })
    if ('error' in usage) return // the meter went away with a new configuration
    emit({ key: `usage:${meter}`, message: { type: 'usage', data: usage }, fingerprint: `${usage.configVersion}:${usage.value}` })
  }
}

// Each tenant's current configuration, kept for a moment: CORS origins and the live streams'
// meters are read per request and per commit, and parsing the stored JSON each time would show.
import type { Clock, ConfigVersion, Store } from '@meterkit/engine'

export class TenantConfigs {
  private readonly cache = new Map<number, { config: Promise<ConfigVersion>; until: number }>()

  constructor(private readonly store: Store, private readonly clock: Clock, private readonly ttlMs = 2000) {}

  get(tenantId: number): Promise<ConfigVersion> {
    const now = this.clock.now()
    const hit = this.cache.get(tenantId)
    if (hit !== undefined && hit.until > now) return hit.config
    const config = this.store.getConfig(tenantId)
    if (this.cache.size > 10_000) this.cache.clear()
    this.cache.set(tenantId, { config, until: now + this.ttlMs })
    config.catch(() => this.cache.delete(tenantId))
    return config
  }

  /** After a configuration was applied in this process: the next read sees it at once. */
  forget(tenantId: number): void {
    this.cache.delete(tenantId)
  }
}

// Which events of a batch were stored (answered `accepted`): what the live streams are told about.
import type { EventResult } from '@meterkit/protocol'

export function* acceptedEvents(events: readonly unknown[], results: readonly EventResult[]): Iterable<{ customerId: string; event: string }> {
  for (let i = 0; i < results.length; i++) if (results[i]!.status === 'accepted') yield events[i] as { customerId: string; event: string }
}

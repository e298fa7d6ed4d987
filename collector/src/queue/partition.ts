// Which partition a customer's events go to: FNV-1a over the tenant and the customer id, so that
// every collector sends a customer's events to the same subject, which one worker owns at a time.

const encoder = new TextEncoder()

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5
  const bytes = encoder.encode(text)
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

/** The partition of a tenant's customer, in [0, partitions). */
export function partitionOf(tenantId: number, customerId: string, partitions: number): number {
  return fnv1a(`${tenantId}\u0000${customerId}`) % partitions
}

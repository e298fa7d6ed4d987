// Key scopes: what a secret key may do. `ingest` is for workers (send events, hold and release
// credits), `read` for dashboards and reports (every read of tenant data), `admin` for everything.
// Keys made before scopes existed, and keys made without any, are `admin`, so nothing breaks.

export const KEY_SCOPES = ['ingest', 'read', 'admin'] as const
export type KeyScope = (typeof KEY_SCOPES)[number]

/** The scopes of a key created without any. */
export const DEFAULT_SCOPES: readonly KeyScope[] = ['admin']

export function isKeyScope(value: string): value is KeyScope {
  return (KEY_SCOPES as readonly string[]).includes(value)
}

/** The scopes as stored (space-separated); null (keys older than scopes) reads as admin. */
export function parseScopes(stored: string | null): KeyScope[] {
  if (stored === null || stored.trim() === '') return [...DEFAULT_SCOPES]
  return normalizeScopes(stored.split(' ').filter(isKeyScope))
}

/** Scopes without repeats, in the order of KEY_SCOPES. */
export function normalizeScopes(scopes: readonly KeyScope[]): KeyScope[] {
  const set = new Set(scopes)
  return KEY_SCOPES.filter((s) => set.has(s))
}

/** Whether a key with `held` may do what needs `needed`: admin may do everything. */
export function hasScope(held: readonly KeyScope[], needed: KeyScope): boolean {
  return held.includes('admin') || held.includes(needed)
}

/**
 * Whether a key holding `held` may mint a key with `wanted`: never more than it holds itself.
 * (Minting is an admin route, so in practice only admin keys mint, and may mint any scopes.)
 */
export function canMint(held: readonly KeyScope[], wanted: readonly KeyScope[]): boolean {
  return wanted.every((s) => hasScope(held, s))
}

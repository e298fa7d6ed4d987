// When a failed delivery is tried again: the Standard Webhooks example schedule, with jitter,
// for at most three days after the event. A pure function of the attempt number.

/** Delay after the 1st, 2nd, … failed attempt; past the end the last one repeats. */
export const RETRY_DELAYS_MS: readonly number[] = [
  5_000, // 5 s
  300_000, // 5 min
  1_800_000, // 30 min
  7_200_000, // 2 h
  18_000_000, // 5 h
  36_000_000, // 10 h
  50_400_000, // 14 h
  72_000_000, // 20 h
  86_400_000, // 24 h
]

/** A delivery is retried until this long after its event, then marked failed. */
export const DELIVERY_WINDOW_MS = 3 * 86_400_000

/** Jitter: each delay is scaled by a factor in [1 − JITTER, 1 + JITTER), so retries to one endpoint spread out. */
export const RETRY_JITTER = 0.2

/** The delay after `failedAttempts` (≥ 1) failures; `random` in [0, 1), 0.5 gives the schedule exactly. */
export function retryDelayMs(failedAttempts: number, random: () => number = Math.random): number {
  const base = RETRY_DELAYS_MS[Math.min(Math.max(failedAttempts, 1), RETRY_DELAYS_MS.length) - 1]!
  return Math.round(base * (1 - RETRY_JITTER + 2 * RETRY_JITTER * random()))
}

// Rollups are kept per 15-minute bucket: every time zone's offset is a multiple of 15 minutes,
// so hour, day and month windows in any zone are whole numbers of buckets.

export const BUCKET_MS = 15 * 60 * 1000

export function bucketOf(ms: number): number {
  return Math.floor(ms / BUCKET_MS) * BUCKET_MS
}

export function nextBucketBoundary(ms: number): number {
  return Math.ceil(ms / BUCKET_MS) * BUCKET_MS
}

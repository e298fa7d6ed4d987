import { afterEach, beforeEach, expect, it } from 'vitest'
import { Meterkit } from '../../../packages/node/src/index.js'
import { HttpCollector } from '../../../packages/node/src/testing/http-collector.js'
// @ts-expect-error: plain ESM example without type declarations
import { runJob } from './worker.mjs'

const KEY = 'mk_sec_test_key_0123456789'
let collector: HttpCollector
beforeEach(async () => {
  collector = new HttpCollector(KEY)
  await collector.start()
})
afterEach(() => collector.stop())

it('re-running a failed job never double-counts a step, even from another process', async () => {
  const job = { id: 'job-981', customerId: 'cus_42', frames: 480, resolution: '4k', submittedAt: Date.UTC(2026, 10, 25, 10) }
  const first = new Meterkit({ endpoint: collector.url, apiKey: KEY })
  await expect(runJob(first, job, { failAt: 'upscale' })).rejects.toThrow(/failed at upscale/)
  await first.shutdown()
  const second = new Meterkit({ endpoint: collector.url, apiKey: KEY }) // e.g. another worker
  await runJob(second, job)
  await second.shutdown()
  expect([...collector.stored.keys()].sort()).toEqual(['job-981:export', 'job-981:ingest', 'job-981:render', 'job-981:upscale'])
  expect(second.stats()).toMatchObject({ acknowledged: 4, duplicates: 2, rejected: 0 })
  expect(collector.conflicts).toBe(0)
})

// Run as its own process (worker threads load the built modules): a SQLite store, as the collector
// opens it (writer and maintenance threads), commits a backlog of ingest back to back while the
// main thread writes (what a billing run, a grant or a customer update does) with the store's
// own busy timeout. Prints { failures, ingested, customers } as JSON.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '@meterkit/engine'

const NOW = Date.UTC(2026, 11, 1)
const WRITES = 60

function batch(producer, n) {
  return Array.from({ length: 500 }, (_, i) => {
    const propertiesJson = `{"gpuSeconds":${(i % 7) + 1}}`
    return { id: `p${producer}-${n}-${i}`, event: 'render.completed', customerId: `cus_${i % 50}`, timestampMs: NOW, properties: JSON.parse(propertiesJson), propertiesJson, reservationId: undefined }
  })
}

const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'meterkit-backlog-')), 'm.db'), { writerThread: true })
const tenant = await store.createTenant('t', NOW)
await store.applyConfig(tenant.id, { meters: [{ key: 'gpu', event: 'render.completed', aggregation: 'sum', property: 'gpuSeconds' }] }, null, NOW)
// A backlog of 400 batches (200,000 events) handed to the writer thread at once: it commits them
// back to back for a while whatever the main thread does.
const backlog = Array.from({ length: 400 }, (_, n) => store.ingest({ tenantId: tenant.id, source: 'server', receivedAtMs: NOW, events: batch(0, n) }))
const failures = []
for (let i = 0; i < WRITES; i++) {
  await store.putCustomer(tenant.id, { id: `cus_main_${i}`, name: `Customer ${i}` }, NOW).catch((err) => failures.push(err.message))
}
const ingested = (await Promise.all(backlog)).flat().filter((o) => o === 'accepted').length
let customers = 0
for (let i = 0; i < WRITES; i++) if ((await store.getCustomer(tenant.id, `cus_main_${i}`))?.name === `Customer ${i}`) customers++
await store.close()
console.log(JSON.stringify({ failures, ingested, customers }))

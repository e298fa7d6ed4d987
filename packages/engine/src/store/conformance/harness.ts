// The stores a conformance test file runs on: SQLite always, PostgreSQL where a server answers
// (and always under CI). Each file gets its own stores; each test starts from empty ones.
import type { ValidEvent } from '@meterkit/protocol'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { postgresAvailable } from './postgres-database.js'
import { type StoreFactory, type StoreUnderTest, postgresFactory, sqliteFactory } from './stores.js'

const postgres = await postgresAvailable()

/** The factories to run on, with `skip` set where PostgreSQL is absent (outside CI). */
export const STORES: { name: string; factory: StoreFactory; skip: boolean }[] = [
  { name: 'sqlite', factory: sqliteFactory, skip: false },
  { name: 'postgres', factory: postgresFactory, skip: postgres !== true },
]

/** Opens the factory's store once for the enclosing describe, emptied before each test. */
export function useStore(factory: StoreFactory): () => StoreUnderTest {
  let store: StoreUnderTest | undefined
  beforeAll(async () => {
    store = await factory.open()
  })
  beforeEach(async () => {
    await store!.reset()
  })
  afterAll(async () => {
    await store?.close()
  })
  return () => store!
}

export function validEvent(e: Partial<ValidEvent> & { id: string }): ValidEvent {
  const properties = e.properties ?? {}
  return {
    event: 'render.completed',
    customerId: 'cus_1',
    timestampMs: Date.UTC(2026, 10, 1),
    reservationId: undefined,
    ...e,
    properties,
    propertiesJson: e.propertiesJson ?? JSON.stringify(properties),
  }
}

// A fresh PostgreSQL database per test file: CREATE DATABASE mk_<random> on the server the tests
// use (MK_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/postgres), dropped after.
// Where no server answers, tests that need one skip with a message, except under CI, where
// they must run: there an unreachable server fails the suite.
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export const ADMIN_URL = process.env.MK_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/**
 * A client of the server the tests use. Its queries report their own failures; the listener
 * takes the server's report of a connection ending between them, which would end the process.
 */
function adminClient(options: pg.ClientConfig = {}): pg.Client {
  const client = new pg.Client({ connectionString: ADMIN_URL, ...options })
  client.on('error', () => undefined)
  return client
}

async function reachable(): Promise<string | undefined> {
  const client = adminClient({ connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return undefined
  } catch (err) {
    return (err as Error).message
  } finally {
    await client.end().catch(() => undefined)
  }
}

/**
 * Whether PostgreSQL tests run here: true, or a sentence saying why they skip. Under `CI` an
 * unreachable server throws instead, so that CI never passes without them.
 */
export async function postgresAvailable(): Promise<true | string> {
  const reason = await reachable()
  if (reason === undefined) return true
  const message = `PostgreSQL tests skipped: no server at ${new URL(ADMIN_URL).host} (${reason}); set MK_TEST_POSTGRES to run them`
  if (process.env.CI) throw new Error(`${message.replace('skipped', 'cannot run under CI')}`)
  console.warn(message)
  return message
}

export interface TestDatabase {
  name: string
  url: string
  drop(): Promise<void>
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = adminClient()
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `mk_${randomBytes(6).toString('hex')}`
  await admin((c) => c.query(`CREATE DATABASE ${name}`))
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  return {
    name,
    url: url.toString(),
    // WITH (FORCE): connections a failed test left open do not keep the database alive.
    drop: () => admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  }
}

// Which store a URL selects: `sqlite:PATH` (the embedded store, a file) or
// `postgres://user@host:port/db` (`postgresql://` too). Bad URLs get an error naming the rule.

export type StoreUrl =
  | { kind: 'sqlite'; path: string }
  | {
    kind: 'postgres'
    /** The URL as given, password and parameters included: what the driver connects with. */
    url: string
    host: string
    port: number
    database: string
    user: string | undefined
    /** The URL without its password, for logs and messages. */
    display: string
  }

export class StoreUrlError extends RangeError {}

const EXAMPLES = 'use sqlite:PATH (sqlite:./meterkit.db) or postgres://user@host:port/db'
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

function fail(rule: string): never {
  throw new StoreUrlError(`store URL: ${rule}`)
}

export function parseStoreUrl(text: string): StoreUrl {
  if (text.length === 0) fail(`is empty; ${EXAMPLES}`)
  if (CONTROL.test(text)) fail('must not contain control characters')
  const colon = text.indexOf(':')
  const scheme = colon > 0 ? text.slice(0, colon).toLowerCase() : ''
  if (scheme === 'sqlite') return parseSqlite(text.slice(colon + 1))
  if (scheme === 'postgres' || scheme === 'postgresql') return parsePostgres(text)
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) fail(`"${text}" has no scheme; ${EXAMPLES}`)
  return fail(`unknown scheme "${scheme}:"; ${EXAMPLES}`)
}

function parseSqlite(rest: string): StoreUrl {
  // sqlite:///abs/path.db is the absolute path /abs/path.db; sqlite://host/… names no file.
  if (rest.startsWith('///')) rest = rest.slice(2)
  else if (rest.startsWith('//')) fail('sqlite: takes a file path (sqlite:./meterkit.db or sqlite:///var/lib/meterkit.db), not a host')
  if (rest.length === 0) fail('sqlite: needs a file path (sqlite:./meterkit.db)')
  return { kind: 'sqlite', path: rest }
}

function parsePostgres(text: string): StoreUrl {
  let u: URL
  try {
    u = new URL(text)
  } catch {
    return fail('is not a valid postgres URL (postgres://user@host:port/db)')
  }
  if (!text.slice(u.protocol.length).startsWith('//')) fail('a postgres URL starts with postgres:// (postgres://user@host:port/db)')
  if (u.hostname.length === 0) fail('a postgres URL must name its host (postgres://user@host:port/db)')
  const port = u.port === '' ? 5432 : Number(u.port)
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`port must be 1–65535, not ${u.port}`)
  let database: string
  try {
    database = decodeURIComponent(u.pathname.slice(1))
  } catch {
    return fail('the database name is not valid percent-encoding')
  }
  if (database.length === 0) fail('a postgres URL must name its database (postgres://user@host:port/db)')
  if (database.includes('/')) fail(`the database name must not contain "/" (got "${database}")`)
  if (u.hash !== '') fail('a postgres URL has no #fragment')
  let user: string | undefined
  try {
    user = u.username === '' ? undefined : decodeURIComponent(u.username)
  } catch {
    return fail('the user name is not valid percent-encoding')
  }
  const shown = new URL(text)
  if (shown.password !== '') shown.password = '***'
  return { kind: 'postgres', url: text, host: u.hostname, port, database, user, display: shown.toString() }
}

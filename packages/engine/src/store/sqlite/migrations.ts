// Versioned schema migrations: each runs once, in its own transaction, recorded in
// `user_version`. Applying them again is a no-op, so every process may call `migrate` on open.
import type Database from 'better-sqlite3'

const MIGRATIONS: string[] = [
  // 1: tenants, keys, customers, events.
  `
  CREATE TABLE tenants (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    hash BLOB NOT NULL UNIQUE,           -- SHA-256 of the key; the key itself is never stored
    name TEXT,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE customers (
    tenant_id INTEGER NOT NULL,
    id TEXT NOT NULL,
    name TEXT,
    email TEXT,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    metadata TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
  ) WITHOUT ROWID;
  -- Events are immutable facts keyed by (tenant_id, id), forever: dedup has no time window.
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    id TEXT NOT NULL,
    event TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    ts INTEGER NOT NULL,                 -- event time, ms since the epoch
    properties TEXT NOT NULL,            -- JSON
    reservation_id TEXT,
    source TEXT NOT NULL,                -- server | browser | import
    received_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX events_by_id ON events (tenant_id, id);
  -- Event times cluster near now, so this index grows at its right edge: cheap to insert.
  CREATE INDEX events_by_time ON events (tenant_id, ts);
  -- Events by customer. Inserting one entry per event would touch a page per customer in every
  -- transaction (measured: 7x slower ingest), so this index is built behind the writer in large
  -- sorted passes; rows past its watermark (index_state) are read from events directly.
  CREATE TABLE customer_events (
    tenant_id INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, ts, seq)
  ) WITHOUT ROWID;
  CREATE TABLE index_state (
    name TEXT PRIMARY KEY,
    seq INTEGER NOT NULL                 -- events with seq <= this are in the index
  ) WITHOUT ROWID;
  INSERT INTO index_state (name, seq) VALUES ('customer_events', 0);
  `,
  // 2: configuration versions, meter rollups, corrections.
  `
  CREATE TABLE config_versions (
    tenant_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    config TEXT NOT NULL,                -- JSON, as validated
    applied_at INTEGER NOT NULL,
    key_id TEXT,
    PRIMARY KEY (tenant_id, version)
  ) WITHOUT ROWID;
  -- Partial aggregates per meter, customer, 15-minute bucket and group (see meters/aggregate.ts).
  -- Like customer_events, rollups cover events up to the index_state watermark; readers fold the
  -- events past it themselves. Decimals are stored as exact decimal strings.
  CREATE TABLE meter_rollups (
    tenant_id INTEGER NOT NULL,
    meter TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    group_key TEXT NOT NULL,
    count INTEGER NOT NULL,
    sum TEXT,
    min TEXT,
    max TEXT,
    latest_ts INTEGER,
    latest_id TEXT,
    latest_value TEXT,
    PRIMARY KEY (tenant_id, meter, customer_id, bucket, group_key)
  ) WITHOUT ROWID;
  CREATE TABLE meter_uniques (
    tenant_id INTEGER NOT NULL,
    meter TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    group_key TEXT NOT NULL,
    value TEXT NOT NULL,                 -- the value's canonical JSON
    PRIMARY KEY (tenant_id, meter, customer_id, bucket, group_key, value)
  ) WITHOUT ROWID;
  -- Corrections append: the original stays in events (it decides duplicate vs conflict);
  -- the current properties and status are what every figure uses.
  ALTER TABLE events ADD COLUMN status TEXT NOT NULL DEFAULT 'active';   -- active | amended | voided
  ALTER TABLE events ADD COLUMN current TEXT;                            -- amended properties (JSON)
  CREATE TABLE event_versions (
    tenant_id INTEGER NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,            -- 1 is the event as received
    action TEXT NOT NULL,                -- amend | void
    properties TEXT,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL,
    key_id TEXT,
    PRIMARY KEY (tenant_id, id, version)
  ) WITHOUT ROWID;
  `,
  // 3: a generation counter, bumped by every correction and configuration change, so a fold
  // prepared outside the write lock can tell whether what it read is still current.
  `
  INSERT INTO index_state (name, seq) VALUES ('generation', 0);
  `,
  // 4: subscriptions, invoices and the events behind each invoice line.
  `
  CREATE TABLE subscriptions (
    tenant_id INTEGER NOT NULL,
    id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    start_at INTEGER NOT NULL,
    end_at INTEGER,                      -- service ends here (cancel), null while it runs
    billed_through INTEGER,              -- the last boundary whose invoice is final; null: none yet
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
  ) WITHOUT ROWID;
  CREATE INDEX subscriptions_by_customer ON subscriptions (tenant_id, customer_id);
  -- A plan in effect from start_at: a snapshot of the plan and of the meters its charges read.
  CREATE TABLE subscription_phases (
    tenant_id INTEGER NOT NULL,
    subscription_id TEXT NOT NULL,
    start_at INTEGER NOT NULL,
    plan TEXT NOT NULL,                  -- JSON
    meters TEXT NOT NULL,                -- JSON
    anchor_at INTEGER NOT NULL,
    -- 1: a change at a boundary already invoiced, which billed the period ahead under the plan
    -- before it; the period's closing invoice credits that fee (decision 0005).
    replaces_billed INTEGER NOT NULL DEFAULT 0,
    config_version INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, subscription_id, start_at)
  ) WITHOUT ROWID;
  -- One invoice per subscription boundary: it closes the period before it and opens the next.
  -- A closing invoice has period_end = boundary; the opening one (at the start) period_start = boundary.
  CREATE TABLE invoices (
    tenant_id INTEGER NOT NULL,
    id TEXT NOT NULL,
    number INTEGER,                      -- per tenant, in sequence, given at finalization
    customer_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    boundary INTEGER NOT NULL,
    status TEXT NOT NULL,                -- draft | finalized | paid | void
    period_start INTEGER NOT NULL,
    period_end INTEGER NOT NULL,
    currency TEXT NOT NULL,
    subtotal TEXT NOT NULL,
    credits_applied TEXT NOT NULL,
    total TEXT NOT NULL,
    amount_paid TEXT NOT NULL,
    cutoff_seq INTEGER NOT NULL,         -- events with a greater seq arrived after it was computed
    created_at INTEGER NOT NULL,
    finalized_at INTEGER,
    paid_at INTEGER,
    voided_at INTEGER,
    credit_note TEXT,                    -- JSON, when voided
    PRIMARY KEY (tenant_id, id)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX invoices_by_boundary ON invoices (tenant_id, subscription_id, boundary);
  CREATE INDEX invoices_by_customer ON invoices (tenant_id, customer_id, boundary);
  CREATE INDEX invoices_by_time ON invoices (tenant_id, boundary, id);
  CREATE UNIQUE INDEX invoices_by_number ON invoices (tenant_id, number) WHERE number IS NOT NULL;
  CREATE TABLE invoice_lines (
    tenant_id INTEGER NOT NULL,
    invoice_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    charge_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    quantity TEXT NOT NULL,
    amount TEXT NOT NULL,
    credits TEXT,
    period_start INTEGER NOT NULL,
    period_end INTEGER NOT NULL,
    dimension TEXT,
    advance INTEGER NOT NULL DEFAULT 0,
    event_count INTEGER NOT NULL DEFAULT 0,
    event_seqs BLOB,                     -- the source events' seqs, sorted, as float64 little-endian
    PRIMARY KEY (tenant_id, invoice_id, position)
  ) WITHOUT ROWID;
  CREATE TABLE invoice_payments (
    tenant_id INTEGER NOT NULL,
    invoice_id TEXT NOT NULL,
    id TEXT NOT NULL,
    position INTEGER NOT NULL,           -- 1, 2, … in the order recorded
    amount TEXT NOT NULL,
    method TEXT NOT NULL,
    reference TEXT,
    at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, invoice_id, id)
  ) WITHOUT ROWID;
  -- Events that reached an invoiced period after its invoice (late, imported, voided, amended):
  -- the next invoice of the subscription adjusts that period.
  CREATE TABLE billing_changes (
    tenant_id INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, seq)
  ) WITHOUT ROWID;
  INSERT INTO index_state (name, seq) VALUES ('billing_scan', 0);
  -- Bumped by every change to a subscription or a customer's timezone: caches of timelines check it.
  INSERT INTO index_state (name, seq) VALUES ('subscriptions', 0);
  `,
  // 5: credits. The ledger's entries are immutable rows; each customer's compact state (grants,
  // holds, balance, owed) is kept beside them and changed in the same transaction.
  `
  CREATE TABLE credit_state (
    tenant_id INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    state TEXT NOT NULL,                 -- JSON (credits/serialize.ts)
    PRIMARY KEY (tenant_id, customer_id)
  ) WITHOUT ROWID;
  CREATE TABLE credit_entries (
    tenant_id INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    n INTEGER NOT NULL,                  -- le_<n>: 1, 2, … per customer
    type TEXT NOT NULL,
    credits TEXT NOT NULL,               -- signed decimal
    balance_after TEXT NOT NULL,
    at INTEGER NOT NULL,
    grant_id TEXT,
    event_ids TEXT,                      -- JSON array of event ids
    invoice_id TEXT,
    reservation_id TEXT,
    held TEXT,
    reason TEXT,
    PRIMARY KEY (tenant_id, customer_id, n)
  ) WITHOUT ROWID;
  CREATE TABLE credit_reservations (
    tenant_id INTEGER NOT NULL,
    id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    credits TEXT NOT NULL,
    granted INTEGER NOT NULL,
    available TEXT NOT NULL,             -- as answered when it was made
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
  ) WITHOUT ROWID;
  -- Usage priced in credits so far, per charge, billing period and dimension value: an event's
  -- cost is price(total after) − price(total before), so tiers price each event right.
  CREATE TABLE credit_totals (
    tenant_id INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    charge TEXT NOT NULL,                -- subscription id and charge key
    period_start INTEGER NOT NULL,
    dimension TEXT NOT NULL,             -- dimension value JSON, '' for none
    quantity TEXT NOT NULL,
    credits TEXT NOT NULL,               -- what the events so far were charged
    PRIMARY KEY (tenant_id, customer_id, charge, period_start, dimension)
  ) WITHOUT ROWID;
  -- Corrections of a stretch's credits by voids, amends and the period's close.
  CREATE TABLE credit_corrections (
    tenant_id INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    charge TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    credits TEXT NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, charge, period_start)
  ) WITHOUT ROWID;
  CREATE TABLE credit_uniques (
    tenant_id INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    charge TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    dimension TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, charge, period_start, dimension, value)
  ) WITHOUT ROWID;
  CREATE TABLE auto_top_ups (
    tenant_id INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    threshold TEXT NOT NULL,
    credits TEXT NOT NULL,
    amount TEXT,
    armed INTEGER NOT NULL,              -- 1 while available is at or above the threshold
    PRIMARY KEY (tenant_id, customer_id)
  ) WITHOUT ROWID;
  -- Once-per-crossing alerts (balance.low): armed while available is at or above the threshold.
  CREATE TABLE credit_alerts (
    tenant_id INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    armed INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, kind)
  ) WITHOUT ROWID;
  -- Money to invoice for credits bought (top-ups), taken by the customer's next invoice.
  CREATE TABLE credit_purchases (
    tenant_id INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    credits TEXT NOT NULL,
    amount TEXT NOT NULL,
    at INTEGER NOT NULL,
    invoice_id TEXT,
    PRIMARY KEY (tenant_id, customer_id, grant_id)
  ) WITHOUT ROWID;
  INSERT INTO index_state (name, seq) VALUES ('credits', 0);
  `,
  // 6: webhooks: the outbox. One row per event and subscribed endpoint, written in the transaction
  // that made the event happen; the dispatcher delivers each at least once (webhooks/outbox.ts).
  `
  CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY,             -- enqueue order; the list's cursor
    id TEXT NOT NULL,                    -- msg_…, the webhook-id header, the same on every attempt
    tenant_id INTEGER NOT NULL,
    type TEXT NOT NULL,                  -- balance.low | limit.reached | invoice.finalized | top_up.created
    url TEXT NOT NULL,
    secret TEXT NOT NULL,                -- the endpoint's signing secret when the event happened
    body TEXT NOT NULL,                  -- the JSON body, byte for byte the same on every attempt
    status TEXT NOT NULL,                -- pending | delivered | failed
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER,             -- ms; null once delivered or failed
    last_attempt_at INTEGER,
    last_status INTEGER,                 -- HTTP status of the last attempt; null: no answer
    last_error TEXT,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
  );
  CREATE UNIQUE INDEX webhook_deliveries_by_id ON webhook_deliveries (id);
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
  CREATE INDEX webhook_deliveries_by_tenant ON webhook_deliveries (tenant_id, seq);
  CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (tenant_id, status, seq);
  `,
  // 7: per-tenant secrets, created on first use and never shown: the HMAC key that signs customer
  // tokens (purpose 'customer_tokens'), so tokens need no row of their own.
  `
  CREATE TABLE tenant_secrets (
    tenant_id INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    secret BLOB NOT NULL,                -- 32 random bytes
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, purpose)
  ) WITHOUT ROWID;
  `,
  // 8: least privilege and test mode; webhook endpoints kept over the API; idempotent money paths.
  `
  ALTER TABLE api_keys ADD COLUMN scopes TEXT;          -- space-separated (ingest read admin); null: admin (keys made before scopes)
  ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;   -- ms; null: never
  ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER; -- ms, recorded at most once a minute per process
  -- A test tenant names the live tenant it pairs with; each live tenant has at most one.
  ALTER TABLE tenants ADD COLUMN live_tenant_id INTEGER REFERENCES tenants(id);
  CREATE UNIQUE INDEX tenants_test_pair ON tenants (live_tenant_id) WHERE live_tenant_id IS NOT NULL;
  CREATE TABLE webhook_endpoints (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,             -- we_…
    tenant_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,                -- JSON array of event types
    secret TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX webhook_endpoints_by_tenant ON webhook_endpoints (tenant_id, seq);
  ALTER TABLE webhook_deliveries ADD COLUMN redelivery_of TEXT; -- the delivery this one sends again
  -- Finished deliveries are pruned by age (webhook retention).
  CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (created_at) WHERE status <> 'pending';
  -- Idempotency-Key claims on money paths: one row per tenant, route and key.
  CREATE TABLE idempotency_keys (
    tenant_id INTEGER NOT NULL,
    route TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,          -- SHA-256 of the method, path and body
    state TEXT NOT NULL,                 -- in_progress | done
    status INTEGER,                      -- the first answer's HTTP status, once done
    body TEXT,                           -- the first answer's body, once done
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, route, key)
  ) WITHOUT ROWID;
  CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
  `,
  // 9: the schema's history: one row per migration, with when it was applied (null for those
  // applied before the history was kept), so an operator can tell what an upgrade did and when.
  `
  CREATE TABLE schema_history (
    version INTEGER PRIMARY KEY,
    applied_at INTEGER                   -- ms; null: applied before this table existed
  );
  `,
]

/** One line per migration, for `meterkit migrate --check`: what applying it does. */
export const MIGRATION_SUMMARIES: readonly string[] = [
  'tenants, API keys, customers and events, with the customer index',
  'configuration versions, meter rollups and event corrections',
  'a generation counter for folds prepared outside the write lock',
  'subscriptions, invoices and the events behind each invoice line',
  'the credit ledger, grants, holds and auto top-ups',
  'the webhook outbox',
  'per-tenant secrets (the key that signs customer tokens)',
  'key scopes and expiry, test tenants, webhook endpoints over the API, idempotency keys',
  'the schema history table (when each migration was applied)',
]

export const SCHEMA_VERSION = MIGRATIONS.length

/** A database written by a newer Meterkit: this binary would misread it, so it refuses to open it. */
export class SchemaTooNewError extends Error {
  constructor(readonly path: string, readonly databaseVersion: number) {
    super(
      `database ${path} has schema version ${databaseVersion}, newer than this meterkit understands (schema ${SCHEMA_VERSION}): ` +
        'it was opened by a newer release. Run that release (or a later one), or restore a backup taken before the upgrade',
    )
    this.name = 'SchemaTooNewError'
  }
}

export interface SchemaStatus {
  /** The database's schema version (0: empty database). */
  version: number
  /** The version this binary migrates to. */
  target: number
  /** Migrations opening the database would apply, in order. */
  pending: { version: number; summary: string }[]
  /** When each applied migration ran (ms; null: before the history was kept). */
  history: { version: number; appliedAtMs: number | null }[]
}

/** What opening the database would do, without changing it; throws SchemaTooNewError for a newer database. */
export function schemaStatus(db: Database.Database): SchemaStatus {
  const version = checkSchema(db)
  const pending = MIGRATION_SUMMARIES.slice(version).map((summary, i) => ({ version: version + i + 1, summary }))
  const hasHistory = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_history'").pluck().get() === 1
  const history = hasHistory
    ? (db.prepare('SELECT version, applied_at AS appliedAtMs FROM schema_history ORDER BY version').all() as { version: number; appliedAtMs: number | null }[])
    : []
  return { version, target: SCHEMA_VERSION, pending, history }
}

/** The database's schema version; throws SchemaTooNewError when it is newer than this binary's. */
export function checkSchema(db: Database.Database): number {
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > SCHEMA_VERSION) throw new SchemaTooNewError(db.name, version)
  return version
}

export function migrate(db: Database.Database, nowMs = Date.now()): void {
  const apply = db.transaction(() => {
    const current = checkSchema(db)
    if (current === MIGRATIONS.length) return
    for (let version = current; version < MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version]!)
      db.pragma(`user_version = ${version + 1}`)
    }
    const record = db.prepare('INSERT OR IGNORE INTO schema_history (version, applied_at) VALUES (?, ?)')
    for (let version = 1; version <= MIGRATIONS.length; version++) record.run(version, version > current ? nowMs : null)
  })
  // IMMEDIATE: two processes opening one database cannot both migrate.
  apply.immediate()
}

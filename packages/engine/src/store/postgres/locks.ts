// The store's advisory locks: (namespace, lock) pairs held until their transaction ends, so a
// crashed process never leaves one behind. Advisory locks are per database: two Meterkit
// databases on one server never contend.
//
// Order: a transaction takes the write lock (at its start) before the append lock (at its first
// append), never the reverse, so two transactions cannot wait on each other.

/** 'mk' in ASCII: the classid half of every Meterkit advisory lock. */
export const LOCK_NAMESPACE = 0x6d6b

/**
 * Held by every write transaction from its start: writers of all processes take turns, as
 * SQLite's BEGIN IMMEDIATE makes them, so what a write transaction reads stays true until it commits.
 */
export const WRITE_LOCK = 1

/**
 * Held by a transaction from its first event append to its end. An append numbers its events
 * from max(seq) + 1, so two at once would take the same numbers; and any counter handed out at
 * insert rather than at commit lets appends commit out of order (7 before 5), so that a fold
 * that moved its watermark to 7 on seeing it would never fold 5. Under this lock every seq is
 * committed (or rolled back) before a greater one is handed out: no reader can see a seq while
 * a smaller one is still to come.
 */
export const APPEND_LOCK = 2

/** Held while migrating. */
export const MIGRATE_LOCK = 3

// Test support for code that runs on every store: a fresh PostgreSQL database per test file.
export { ADMIN_URL, createTestDatabase, postgresAvailable, type TestDatabase } from './store/conformance/postgres-database.js'

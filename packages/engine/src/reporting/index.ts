// Reporting: revenue, usage revenue, credit flows, active customers and the ingest rate, over
// the storage port.
export { ReportingService, type ConfigVersionView, type ReportRange, type MonthActiveCustomers, type IngestPoint, type IngestBucket, INGEST_BUCKETS, MAX_REPORT_MONTHS, MAX_INGEST_BUCKETS } from './reporting-service.js'
export { type ReportPeriod, monthsIn } from './months.js'
export { type MonthRevenue, type CurrencyRevenue, REVENUE_STATUSES, revenueByMonth } from './revenue.js'
export { type MonthCredits, creditsByMonth } from './credit-flows.js'
export { type UsageRevenueRow, type UsageRevenueDimension, USAGE_REVENUE_DIMENSIONS, usageRevenue } from './usage-revenue.js'
export type { ReportingReads, ReportInvoiceRecord, ReportLineRecord, ReportLedgerRecord, ReportCustomerRecord, ReportConfigVersionRecord } from './storage.js'

// Billing: subscriptions' timelines, billing periods, proration and the lines of invoices.
export * from './model.js'
export * from './periods.js'
export * from './proration.js'
export * from './timeline.js'
export * from './lines.js'

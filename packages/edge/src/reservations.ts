// Reservations, split off the tracking entry: loaded by the first reserve() or release().
export { releaseCredits, reserveCredits } from '@meterkit/core/reservations'

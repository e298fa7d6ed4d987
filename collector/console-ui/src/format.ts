// Figures as the API gives them: decimal strings shown as they are (never through a float), and
// instants in the reader's locale.

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—'
}

export function day(iso: string): string {
  return iso.slice(0, 10)
}

/** For plotting only: a decimal string as the nearest number. */
export function plotNumber(decimal: string | null | undefined): number | null {
  return decimal === null || decimal === undefined ? null : Number(decimal)
}

export function money(amount: string, currency: string): string {
  return `${amount} ${currency}`
}

// An invoice a person can read: one self-contained HTML page, every value escaped.
import type { InvoiceJson } from './billing-views.js'

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
const day = (iso: string) => iso.slice(0, 10)

export function invoiceHtml(i: InvoiceJson): string {
  const rows = i.lines.map((l) => `
      <tr><td>${escape(l.description)}<div class="muted">${escape(l.kind)} · ${day(l.periodStart)} – ${day(l.periodEnd)}</div></td>
        <td class="num">${escape(l.quantity)}</td><td class="num">${escape(l.amount)}</td></tr>`).join('')
  const payments = i.payments.map((p) => `<li>${day(p.at)}: ${escape(p.amount)} ${escape(i.currency)} by ${escape(p.method)}${p.reference ? ` (${escape(p.reference)})` : ''}</li>`).join('')
  const title = i.number === null ? 'Draft invoice' : `Invoice ${i.number}`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>
  body { font: 14px/1.5 system-ui, sans-serif; max-width: 760px; margin: 2rem auto; color: #222 }
  table { width: 100%; border-collapse: collapse } td, th { padding: .4rem; border-bottom: 1px solid #ddd; vertical-align: top }
  .num { text-align: right; white-space: nowrap } .muted { color: #777; font-size: 12px } .status { text-transform: uppercase; font-weight: 600 }
</style></head>
<body>
  <h1>${escape(title)} <span class="status">${escape(i.status)}</span></h1>
  <p>Customer <b>${escape(i.customerId)}</b> · subscription ${escape(i.subscriptionId)}<br>
     Period ${day(i.periodStart)} – ${day(i.periodEnd)} · ${escape(i.currency)} · invoice id ${escape(i.id)}</p>
  <table>
    <thead><tr><th>Description</th><th class="num">Quantity</th><th class="num">Amount</th></tr></thead>
    <tbody>${rows}
    </tbody>
    <tfoot>
      <tr><td colspan="2">Subtotal</td><td class="num">${escape(i.subtotal)}</td></tr>
      <tr><td colspan="2"><b>Total</b></td><td class="num"><b>${escape(i.total)} ${escape(i.currency)}</b></td></tr>
      <tr><td colspan="2">Paid</td><td class="num">${escape(i.amountPaid)}</td></tr>
      <tr><td colspan="2"><b>Amount due</b></td><td class="num"><b>${escape(i.amountDue)} ${escape(i.currency)}</b></td></tr>
    </tfoot>
  </table>
  ${payments ? `<h2>Payments</h2><ul>${payments}</ul>` : ''}
  ${i.creditNote ? `<p>Voided with credit note ${escape(i.creditNote.id)} for ${escape(i.creditNote.amount)} ${escape(i.currency)}.</p>` : ''}
</body></html>
`
}

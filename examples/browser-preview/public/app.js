// The preview page: a customer's live usage as it changes, and panels for the credit balance
// and a render cost preview that fill in where the collector offers them.
import { Meterkit } from '/sdk/meterkit.js'

const $ = (id) => document.getElementById(id)
const POINTS = 60

const session = await (await fetch('/token')).json()
$('customer').textContent = session.customerId
const mk = new Meterkit({
  endpoint: session.endpoint,
  customerId: session.customerId,
  // Asked again whenever the token expires, so the page can stay open for hours.
  token: async () => (await (await fetch('/token')).json()).token,
})
window.mk = mk
mk.track({ event: 'preview.opened', properties: { path: location.pathname } })

// --- live usage --------------------------------------------------------------------------------

/** meter → { card, values: [{ at, value }] } */
const meters = new Map()

function card(meter) {
  let m = meters.get(meter)
  if (m !== undefined) return m
  $('meters').querySelector('.empty')?.remove()
  const el = document.createElement('article')
  el.className = 'meter'
  el.dataset.meter = meter
  el.innerHTML = `<h3></h3><p class="value"></p><svg viewBox="0 0 300 60" preserveAspectRatio="none"><polyline points=""/></svg>`
  el.querySelector('h3').textContent = meter
  $('meters').append(el)
  m = { el, values: [] }
  meters.set(meter, m)
  return m
}

/** The values received so far, spread over the card's width, the highest at the top. */
function draw(m) {
  const values = m.values.map((p) => Number(p.value))
  const max = Math.max(...values, 1)
  const step = 300 / Math.max(values.length - 1, 1)
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(58 - (v / max) * 54).toFixed(1)}`)
  m.el.querySelector('polyline').setAttribute('points', points.join(' '))
}

function showUsage(usage) {
  const m = card(usage.meter)
  m.values.push({ at: Date.now(), value: usage.value ?? '0' })
  if (m.values.length > POINTS) m.values.shift()
  m.el.querySelector('.value').textContent = usage.value ?? '—'
  draw(m)
}

function showBalance(balance) {
  $('balance-available').textContent = balance.available
  $('balance-note').textContent = `${balance.balance} in all, ${balance.reserved} held for running jobs`
}

mk.subscribe(({ type, data }) => {
  $('status').textContent = 'live'
  $('status').dataset.state = 'live'
  if (type === 'usage') showUsage(data)
  if (type === 'balance') showBalance(data)
})

// --- balance and cost preview --------------------------------------------------------------------

mk.balance().then(showBalance, (err) => {
  $('balance-note').textContent = `Balance unavailable: ${err.message}`
})

$('quote-form').addEventListener('submit', async (e) => {
  e.preventDefault()
  const form = new FormData(e.target)
  $('quote-note').textContent = ''
  try {
    const quote = await mk.quote({ event: 'render.completed', properties: { gpuSeconds: Number(form.get('gpuSeconds')), resolution: form.get('resolution'), status: 'succeeded' } })
    $('quote-result').textContent = `${quote.credits} credits (${quote.amount} ${quote.currency})`
  } catch (err) {
    $('quote-result').textContent = '—'
    $('quote-note').textContent = err.httpStatus === 404 ? 'This customer has no plan to price with yet.' : `Preview unavailable: ${err.message}`
  }
})

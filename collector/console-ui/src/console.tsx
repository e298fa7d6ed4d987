// The console: sign in with a secret key (kept in this tab's sessionStorage only), then the
// overview, customers, invoices, events, plans and meters, webhooks and exports, by hash route.
import 'uplot/dist/uPlot.min.css'
import './style.css'
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { Api } from './api.js'
import { CustomerDetail, Customers } from './customers.js'
import { EventPage, Events } from './events.js'
import { Exports } from './exports.js'
import { InvoicePage } from './invoice.js'
import { Overview } from './overview.js'
import { Plans } from './plans.js'
import { ErrorLine, formFields } from './ui.js'
import { Webhooks } from './webhooks.js'

const KEY = 'meterkit.console.key'

function useHash(): string {
  const [hash, setHash] = useState(location.hash)
  useEffect(() => {
    const on = () => setHash(location.hash)
    addEventListener('hashchange', on)
    return () => removeEventListener('hashchange', on)
  }, [])
  return hash
}

function SignIn(props: { onKey: (key: string) => void }) {
  const [error, setError] = useState<string | undefined>(undefined)
  const submit = (e: Event) => {
    const key = (formFields(e).key ?? '').trim()
    new Api(key).get('/v1/config').then(() => props.onKey(key), (err: Error) => setError(err.message))
  }
  return (
    <main class="signin">
      <h1>Meterkit console</h1>
      <form onSubmit={submit}>
        <label>Secret key <input name="key" type="password" autocomplete="off" placeholder="mk_sec_…" required /></label>
        <button type="submit">Sign in</button>
      </form>
      <p class="muted">The key stays in this tab (sessionStorage) and is sent only to this collector.</p>
      <ErrorLine error={error} />
    </main>
  )
}

const NAV = [['#/', 'Overview'], ['#/customers', 'Customers'], ['#/events', 'Events'], ['#/plans', 'Plans and meters'], ['#/webhooks', 'Webhooks'], ['#/exports', 'Exports']] as const

function Route(props: { api: Api; hash: string }) {
  const [, section, id] = (props.hash.replace(/^#/, '') || '/').split('/').map(decodeURIComponent)
  const { api } = props
  switch (section) {
    case 'customers': return id ? <CustomerDetail api={api} id={id} /> : <Customers api={api} />
    case 'invoices': return <InvoicePage api={api} id={id!} />
    case 'events': return id ? <EventPage api={api} id={id} /> : <Events api={api} />
    case 'plans': return <Plans api={api} />
    case 'webhooks': return <Webhooks api={api} />
    case 'exports': return <Exports api={api} />
    default: return <Overview api={api} />
  }
}

function App() {
  const [key, setKey] = useState(() => sessionStorage.getItem(KEY) ?? '')
  const hash = useHash()
  if (key === '') return <SignIn onKey={(k) => { sessionStorage.setItem(KEY, k); setKey(k) }} />
  const api = new Api(key)
  const section = hash.split('/')[1] ?? ''
  return (
    <div class="layout">
      <nav>
        <strong>Meterkit</strong>
        {NAV.map(([href, label]) => <a key={href} href={href} class={href.split('/')[1] === section ? 'active' : ''}>{label}</a>)}
        <button class="link" onClick={() => { sessionStorage.removeItem(KEY); setKey('') }}>Sign out</button>
      </nav>
      <main key={hash}><Route api={api} hash={hash} /></main>
    </div>
  )
}

render(<App />, document.getElementById('app')!)

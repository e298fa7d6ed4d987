// The fetch webhooks are sent with: undici's, on an agent whose every connection resolves its
// host through the URL policy, so a name that resolves to a private address at delivery time
// (DNS rebinding included) is refused at the connection it would have made.
import { Agent, fetch as undiciFetch } from 'undici'
import type { WebhookUrlPolicy } from './webhook-url-policy.js'

export function guardedFetch(policy: WebhookUrlPolicy): typeof fetch {
  const agent = new Agent({ connect: { lookup: policy.lookup as never } })
  return ((input: string | URL, init?: RequestInit) => {
    const url = String(input)
    const form = policy.judgeForm(url)
    if (!form.ok) return Promise.reject(new Error(`webhook refused: ${url}: ${form.reason}`))
    return undiciFetch(url, { ...(init as object), dispatcher: agent })
  }) as unknown as typeof fetch
}

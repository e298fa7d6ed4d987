// Requests to the collector this page came from, with the credential held in sessionStorage
// (never in a URL or a cookie): a secret key for the console, a customer token for the portal.
// Failures become ApiError values naming the API's code and message, shown where they happen.

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message)
  }
}

export class Api {
  constructor(private readonly credential: string) {}

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${this.credential}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const type = res.headers.get('content-type') ?? ''
    if (!res.ok) {
      const err = type.includes('json') ? ((await res.json()) as { error?: { code?: string; message?: string } }).error : undefined
      throw new ApiError(res.status, err?.code ?? String(res.status), err?.message ?? res.statusText)
    }
    return (type.includes('json') ? await res.json() : await res.text()) as T
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path)
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body)
  }

  /** Downloads a CSV export as a file (the credential goes in a header, so no plain link). */
  async download(path: string, name: string): Promise<void> {
    const res = await fetch(path, { headers: { authorization: `Bearer ${this.credential}` } })
    if (!res.ok) throw new ApiError(res.status, String(res.status), `export failed: ${res.status}`)
    const url = URL.createObjectURL(await res.blob())
    const a = document.createElement('a')
    a.href = url
    a.download = name
    a.click()
    setTimeout(() => URL.revokeObjectURL(url), 10_000)
  }
}

export interface Page<T> {
  data: T[]
  nextCursor: string | null
}

/** A query string of the defined values. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v))
  const s = p.toString()
  return s === '' ? '' : `?${s}`
}

export const enc = encodeURIComponent

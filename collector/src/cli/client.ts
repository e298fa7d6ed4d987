// How CLI commands reach a running collector: --endpoint / MK_ENDPOINT and --api-key / MK_API_KEY.
export interface ApiTarget {
  endpoint: string
  apiKey: string
}

export function apiTarget(values: { endpoint?: string; 'api-key'?: string }): ApiTarget {
  const endpoint = values.endpoint ?? process.env.MK_ENDPOINT ?? 'http://127.0.0.1:8790'
  const apiKey = values['api-key'] ?? process.env.MK_API_KEY
  if (apiKey === undefined) throw new Error('--api-key (or MK_API_KEY) is required')
  return { endpoint, apiKey }
}

export async function callApi(target: ApiTarget, method: string, path: string, body: string | undefined, contentType = 'application/json'): Promise<unknown> {
  const res = await fetch(new URL(path, target.endpoint), {
    method,
    headers: { authorization: `Bearer ${target.apiKey}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body,
  })
  const answer = (await res.json()) as { error?: { code: string; message: string } }
  if (!res.ok) throw new Error(`the collector answered ${res.status} ${answer.error?.code ?? ''}: ${answer.error?.message ?? 'unknown error'}`)
  return answer
}

export const API_OPTIONS = { endpoint: { type: 'string' }, 'api-key': { type: 'string' } } as const

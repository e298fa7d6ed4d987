import { type IncomingHttpHeaders, createServer } from 'node:http'
import type { LookupAddress } from 'node:dns'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { guardedFetch } from './webhook-fetch.js'
import { WebhookUrlPolicy } from './webhook-url-policy.js'

/** A resolver with fixed answers, changeable between calls (a DNS record that moves). */
function fakeDns(records: Record<string, string[]>) {
  const resolve = async (hostname: string): Promise<LookupAddress[]> => {
    const found = records[hostname]
    if (found === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  return { records, resolve }
}

describe('webhook URL policy', () => {
  const policy = new WebhookUrlPolicy()

  it('refuses loopback, link-local, private and reserved addresses, IPv4 and IPv6', () => {
    const refused = [
      '127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
      '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1',
      '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1',
      // IPv4-mapped and IPv4-compatible IPv6 forms of private addresses.
      '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe', '::127.0.0.1',
    ]
    for (const address of refused) expect(policy.refusal(address), address).toBeDefined()
    for (const address of ['8.8.8.8', '93.184.216.34', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) expect(policy.refusal(address), address).toBeUndefined()
  })

  it('judges literal hosts from the URL alone, brackets and all', () => {
    expect(policy.judgeForm('http://127.0.0.1:8080/hook').ok).toBe(false)
    expect(policy.judgeForm('http://[::1]/hook').ok).toBe(false)
    expect(policy.judgeForm('http://[::ffff:169.254.169.254]/latest/meta-data').ok).toBe(false)
    expect(policy.judgeForm('http://2130706433/').ok).toBe(false) // the WHATWG parser reads it as 127.0.0.1
    expect(policy.judgeForm('http://0x7f.1/').ok).toBe(false)
    expect(policy.judgeForm('ftp://93.184.216.34/').ok).toBe(false)
    expect(policy.judgeForm('https://user:pw@hooks.example/').ok).toBe(false)
    expect(policy.judgeForm('https://93.184.216.34/hook').ok).toBe(true)
  })

  it('refuses a name that resolves to a private address, or does not resolve', async () => {
    const dns = fakeDns({ 'hooks.example': ['93.184.216.34'], 'internal.example': ['93.184.216.34', '10.0.0.7'], 'v6.example': ['fd00::5'] })
    const p = new WebhookUrlPolicy({ resolve: dns.resolve })
    expect(await p.judge('https://hooks.example/a')).toEqual({ ok: true })
    // One private address among several is enough to refuse.
    expect(await p.judge('https://internal.example/a')).toMatchObject({ ok: false, reason: expect.stringContaining('10.0.0.7') })
    expect(await p.judge('https://v6.example/a')).toMatchObject({ ok: false, reason: expect.stringContaining('fd00::5') })
    expect(await p.judge('https://nowhere.example/a')).toMatchObject({ ok: false, reason: expect.stringContaining('does not resolve') })
    // The system resolver: localhost is loopback.
    expect((await policy.judge('http://localhost:8790/')).ok).toBe(false)
  })

  it('allows what the operator allows: listed networks, or every private network', async () => {
    const dns = fakeDns({ 'office.example': ['10.1.2.3'] })
    const listed = new WebhookUrlPolicy({ allowNetworks: ['10.1.2.0/24', 'fd00::/8', '127.0.0.1'], resolve: dns.resolve })
    expect(await listed.judge('https://office.example/')).toEqual({ ok: true })
    expect(listed.refusal('10.1.3.1')).toBeDefined()
    expect(listed.refusal('fd00::9')).toBeUndefined()
    expect(listed.refusal('::ffff:127.0.0.1')).toBeUndefined()
    expect(listed.refusal('127.0.0.2')).toBeDefined()
    const open = new WebhookUrlPolicy({ allowPrivateNetworks: true })
    expect(await open.judge('http://127.0.0.1:1/')).toEqual({ ok: true })
    expect(() => new WebhookUrlPolicy({ allowNetworks: ['10.0.0.0/33'] })).toThrow(/prefix/)
    expect(() => new WebhookUrlPolicy({ allowNetworks: ['office'] })).toThrow(/not an IP address/)
  })
})

describe('guarded webhook fetch', () => {
  it('judges the address each connection resolves to: a name moved to loopback after registration is refused', async () => {
    const received: IncomingHttpHeaders[] = []
    const server = createServer((req, res) => {
      received.push(req.headers)
      res.writeHead(204).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    try {
      const dns = fakeDns({ 'rebind.example': ['93.184.216.34'] })
      const policy = new WebhookUrlPolicy({ resolve: dns.resolve })
      expect(await policy.judge(`http://rebind.example:${port}/hook`)).toEqual({ ok: true })
      // The record now points at the collector's own machine.
      dns.records['rebind.example'] = ['127.0.0.1']
      const send = guardedFetch(policy)
      const refused = await send(`http://rebind.example:${port}/hook`, { method: 'POST', body: '{}' }).then(() => undefined, (err: Error) => err)
      expect(String((refused as Error & { cause?: Error })?.cause?.message)).toContain('rebind.example resolves to 127.0.0.1, a loopback')
      expect(received).toHaveLength(0)
      // A literal private address never gets as far as a connection.
      await expect(send(`http://127.0.0.1:${port}/hook`, { method: 'POST', body: '{}' })).rejects.toThrow(/webhook refused/)
      expect(received).toHaveLength(0)
      // Allowed explicitly, the same name and address are delivered to.
      const allowed = guardedFetch(new WebhookUrlPolicy({ allowNetworks: ['127.0.0.1/32'], resolve: dns.resolve }))
      expect((await allowed(`http://rebind.example:${port}/hook`, { method: 'POST', body: '{}' })).status).toBe(204)
      expect(received).toHaveLength(1)
      expect(received[0]!.host).toBe(`rebind.example:${port}`)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

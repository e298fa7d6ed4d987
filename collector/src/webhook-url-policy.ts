// Where webhooks may be sent (SSRF): an endpoint URL is refused when its host is, or resolves
// to, a loopback, link-local, private or otherwise non-public address (IPv4 and IPv6, IPv4-mapped
// IPv6 included), unless the operator allows it. Judged when an endpoint is registered and again
// on every connection a delivery makes (DNS can change between the two, or between two lookups).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { BlockList, isIP } from 'node:net'

export interface WebhookNetworkOptions {
  /** Deliver to any address, private ones included (a development machine, a private network). */
  allowPrivateNetworks?: boolean
  /** Addresses or CIDR ranges allowed although non-public, e.g. `["10.1.2.0/24", "fd00::/8"]`. */
  allowNetworks?: readonly string[]
  /** Name resolution (default: the system's, as connections use it); tests pass fake ones. */
  resolve?: (hostname: string) => Promise<LookupAddress[]>
}

// Special-purpose ranges (IANA IPv4 and IPv6 special-purpose registries) that are not public.
const IPV4_RANGES: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
]
const IPV6_RANGES: [string, number][] = [
  ['::', 128], ['::1', 128], ['::', 96], // unspecified, loopback, IPv4-compatible
  ['64:ff9b:1::', 48], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
]

function blockList(entries: readonly string[]): BlockList {
  const list = new BlockList()
  for (const entry of entries) {
    const [address, prefix] = entry.split('/')
    const family = isIP(address ?? '')
    if (family === 0) throw new Error(`allowNetworks: "${entry}" is not an IP address or CIDR range`)
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (prefix === undefined) list.addAddress(address!, type)
    else {
      const bits = Number(prefix)
      if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) throw new Error(`allowNetworks: "${entry}" has a bad prefix length`)
      list.addSubnet(address!, bits, type)
    }
  }
  return list
}

const NON_PUBLIC = (() => {
  const list = new BlockList()
  for (const [address, bits] of IPV4_RANGES) list.addSubnet(address, bits, 'ipv4')
  for (const [address, bits] of IPV6_RANGES) list.addSubnet(address, bits, 'ipv6')
  return list
})()

export type UrlJudgement = { ok: true } | { ok: false; reason: string }

/** The host of a URL as an address when it is one (IPv6 without brackets), else undefined. */
function literalAddress(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
  return isIP(bare) === 0 ? undefined : bare
}

export class WebhookUrlPolicy {
  private readonly allowed: BlockList
  private readonly resolveName: (hostname: string) => Promise<LookupAddress[]>

  constructor(private readonly options: WebhookNetworkOptions = {}) {
    this.allowed = blockList(options.allowNetworks ?? [])
    this.resolveName = options.resolve ?? ((hostname) => new Promise((resolve, reject) => {
      dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)))
    }))
  }

  get allowsPrivateNetworks(): boolean {
    return this.options.allowPrivateNetworks === true
  }

  /** Why a connection to `address` is refused, or undefined when it may be made. */
  refusal(address: string): string | undefined {
    if (this.options.allowPrivateNetworks) return undefined
    const family = isIP(address)
    if (family === 0) return `${address} is not an IP address`
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (!NON_PUBLIC.check(address, type) || this.allowed.check(address, type)) return undefined
    return `${address}, a loopback, link-local, private or reserved address (webhooks go to public addresses unless the collector allows this network: --webhooks-allow-networks)`
  }

  /** The URL's form only (scheme, literal address): what can be judged without a lookup. */
  judgeForm(url: string): UrlJudgement {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      return { ok: false, reason: 'not a URL' }
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return { ok: false, reason: 'must be an http or https URL' }
    if (parsed.username !== '' || parsed.password !== '') return { ok: false, reason: 'must not hold credentials' }
    const literal = literalAddress(parsed.hostname)
    const refused = literal === undefined ? undefined : this.refusal(literal)
    return refused === undefined ? { ok: true } : { ok: false, reason: `the host is ${refused}` }
  }

  /** The whole check at registration: the form, then every address the host resolves to now. */
  async judge(url: string): Promise<UrlJudgement> {
    const form = this.judgeForm(url)
    if (!form.ok || this.options.allowPrivateNetworks) return form
    const hostname = new URL(url).hostname
    if (literalAddress(hostname) !== undefined) return form
    let addresses: LookupAddress[]
    try {
      addresses = await this.resolveName(hostname)
    } catch (err) {
      return { ok: false, reason: `${hostname} does not resolve (${(err as NodeJS.ErrnoException).code ?? String(err)})` }
    }
    if (addresses.length === 0) return { ok: false, reason: `${hostname} does not resolve` }
    for (const { address } of addresses) {
      const refused = this.refusal(address)
      if (refused !== undefined) return { ok: false, reason: `${hostname} resolves to ${refused}` }
    }
    return { ok: true }
  }

  /**
   * A `lookup` for net.connect/tls.connect (undici's `connect` option): resolves as usual and
   * fails when any address is refused, so the address judged is the address connected to.
   */
  readonly lookup = (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    this.resolveName(hostname).then(
      (found) => {
        const wanted = options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found
        const refused = wanted.map((a) => this.refusal(a.address)).find((r) => r !== undefined)
        if (refused !== undefined) {
          callback(Object.assign(new Error(`webhook refused: ${hostname} resolves to ${refused}`), { code: 'ERR_WEBHOOK_ADDRESS_REFUSED' }), '')
        } else if (wanted.length === 0) {
          callback(Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' }), '')
        } else if (options.all) {
          callback(null, wanted)
        } else {
          callback(null, wanted[0]!.address, wanted[0]!.family)
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    )
  }
}

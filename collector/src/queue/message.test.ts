import { validateEvent } from '@meterkit/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MessageError, decodeBatch, encodeBatch, messageId } from './message.js'
import { parseQueueServers, queueOptions } from './options.js'
import { partitionOf } from './partition.js'

const idChars = fc.constantFrom(...'abcXYZ019._:-'.split(''))
const id = fc.string({ unit: idChars, minLength: 1, maxLength: 40 })
const jsonValue = fc.jsonValue({ maxDepth: 3 }).filter((v) => !JSON.stringify(v).includes('__proto__'))
const wireEvent = fc.record({
  id,
  event: id,
  customerId: fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/\p{Cc}/u.test(s)),
  timestamp: fc.integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2100-01-01T00:00:00Z') }).map((ms) => new Date(ms).toISOString()),
  properties: fc.dictionary(fc.string({ maxLength: 10 }).filter((k) => k !== '__proto__'), jsonValue, { maxKeys: 6 }),
  reservationId: fc.option(id, { nil: undefined }),
})

const valid = (raw: unknown) => {
  const check = validateEvent(raw)
  if (!check.ok) throw new Error(check.message)
  return check.event
}

describe('stream messages', () => {
  it('carry the validated events exactly: decode(encode(x)) is x, properties text included', () => {
    fc.assert(fc.property(fc.array(wireEvent, { minLength: 1, maxLength: 8 }), fc.nat(1000), fc.constantFrom('server', 'browser', 'import' as const), (raws, tenantId, source) => {
      // As a collector receives them: parsed from a JSON body (a number's sign of zero is not JSON).
      const events = raws.map((r) => valid(JSON.parse(JSON.stringify(r)) as unknown))
      const batch = decodeBatch(encodeBatch(tenantId, source, 1_700_000_000_123, events))
      expect(batch).toEqual({ tenantId, source, receivedAtMs: 1_700_000_000_123, events })
    }))
  })

  it('name what is wrong with a message no collector wrote', () => {
    expect(() => decodeBatch('{')).toThrow(MessageError)
    expect(() => decodeBatch('{"v":2}')).toThrow('v: version 2 is not 1')
    expect(() => decodeBatch('{"v":1,"t":1,"s":"server","r":1,"e":[]}')).toThrow('e: must hold events')
    expect(() => decodeBatch('{"v":1,"t":1,"s":"robot","r":1,"e":[[]]}')).toThrow('s: must be server, browser or import')
    expect(() => decodeBatch('{"v":1,"t":1,"s":"server","r":1,"e":[["a","e","c",1,[],null]]}')).toThrow('e[0]: fields of the wrong types')
  })

  it('have ids fixed by tenant, source and event ids, so that a resent batch gets the same ones', () => {
    const a = [valid({ id: 'a', event: 'e', customerId: 'c', timestamp: '2026-01-01T00:00:00Z' })]
    const b = [valid({ id: 'a', event: 'e', customerId: 'c', timestamp: '2026-01-01T00:00:00Z', properties: { x: 1 } })]
    expect(messageId(1, 'server', a)).toBe(messageId(1, 'server', b))
    expect(messageId(1, 'server', a)).not.toBe(messageId(2, 'server', a))
    expect(messageId(1, 'server', a)).not.toBe(messageId(1, 'browser', a))
  })
})

describe('partitions', () => {
  it('put a customer in one partition in range, the same on every call', () => {
    fc.assert(fc.property(fc.nat(), fc.string({ minLength: 1 }), fc.integer({ min: 1, max: 1024 }), (tenantId, customerId, n) => {
      const p = partitionOf(tenantId, customerId, n)
      expect(Number.isInteger(p) && p >= 0 && p < n).toBe(true)
      expect(partitionOf(tenantId, customerId, n)).toBe(p)
    }))
  })

  it('spread customers over the partitions', () => {
    const counts = new Array<number>(16).fill(0)
    for (let i = 0; i < 16_000; i++) counts[partitionOf(1, `cus_${i}`, 16)]!++
    expect(Math.min(...counts)).toBeGreaterThan(800)
    expect(Math.max(...counts)).toBeLessThan(1200)
  })
})

describe('queue options', () => {
  it('take nats:// servers and name the rule otherwise', () => {
    expect(parseQueueServers('nats://127.0.0.1:4222, nats://10.0.0.2:4222')).toEqual(['nats://127.0.0.1:4222', 'nats://10.0.0.2:4222'])
    expect(() => parseQueueServers('http://127.0.0.1:4222')).toThrow('--queue must be nats://host:port (got "http://127.0.0.1:4222")')
    expect(() => parseQueueServers('nats://127.0.0.1:4222/x')).toThrow('--queue must be nats://host:port')
    expect(() => queueOptions({ queue: 'nats://h:1', stream: 'a.b' })).toThrow('--queue-stream must be 1–32 characters of A-Za-z0-9_-')
    expect(() => queueOptions({ queue: 'nats://h:1', partitions: '0' })).toThrow('--queue-partitions must be an integer from 1 to 1024')
    expect(() => queueOptions({ queue: 'nats://h:1', maxBytes: '10' })).toThrow('--queue-max-bytes must be a whole number of bytes, at least 1048576')
    expect(queueOptions({ queue: 'nats://h:1' })).toMatchObject({ stream: 'meterkit', partitions: 16, maxBytes: 1024 ** 3 })
  })
})

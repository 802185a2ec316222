import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CID } from '../src/index.js'
import { CborError, decodeCanonical } from '../src/cbor.js'

const cid = CID.parse('bafyreid24hyrwues4xolxnud3hdgkejmd65wixt5qgoxdcevz5s6jjxlbe')
const leaf = fc.oneof(
  fc.boolean(), fc.constant(null), fc.maxSafeInteger(), fc.integer({ min: -(2 ** 53) + 1, max: 0 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter(d => !Number.isInteger(d)),
  fc.string(), fc.uint8Array({ maxLength: 40 }), fc.constant(cid)
)
const value = fc.letrec(tie => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }).filter(k => k !== '__proto__'), tie('v'), { maxKeys: 5 }))
})).v

/** CIDs as strings, so two CID instances of one link compare equal whatever they cache. */
function normalize (v: unknown): unknown {
  const c = CID.asCID(v)
  if (c !== null) return { cid: c.toString() }
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') }
  if (Array.isArray(v)) return v.map(normalize)
  if (v !== null && typeof v === 'object') return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [k, normalize(x)])
  )
  return v
}

describe('decodeCanonical', () => {
  it('decodes exactly what @ipld/dag-cbor decodes, for anything dag-cbor encodes', () => {
    fc.assert(fc.property(value, (v) => {
      const bytes = dagCbor.encode(v)
      const ours = decodeCanonical(bytes)
      expect(normalize(ours)).toEqual(normalize(dagCbor.decode(bytes)))
      expect(Buffer.from(dagCbor.encode(ours)).equals(Buffer.from(bytes))).toBe(true)
    }), { seed: 42, numRuns: 300 })
  })

  it('refuses non-canonical forms and malformed input with the right kind', () => {
    const kind = (hex: string): string => {
      try {
        decodeCanonical(Uint8Array.from(Buffer.from(hex, 'hex')))
        return 'ok'
      } catch (err) {
        return (err as CborError).kind
      }
    }
    expect(kind('1801')).toBe('non-canonical') // 1 as a one-byte argument
    expect(kind('190001')).toBe('non-canonical')
    expect(kind('a2616201616101')).toBe('non-canonical') // keys "b", "a" out of order
    expect(kind('a2616101616101')).toBe('malformed') // key "a" twice
    expect(kind('fb3ff0000000000000')).toBe('non-canonical') // 1.0 as a float
    expect(kind('f93c00')).toBe('non-canonical') // half float
    expect(kind('9f01ff')).toBe('malformed') // indefinite array
    expect(kind('c1 01'.replace(' ', ''))).toBe('malformed') // tag 1
    expect(kind('f7')).toBe('malformed') // undefined
    expect(kind('0102')).toBe('malformed') // trailing bytes
    expect(kind('62c328')).toBe('malformed') // invalid UTF-8
    expect(kind('a1010')).toBe('malformed') // odd hex → truncated
  })
})

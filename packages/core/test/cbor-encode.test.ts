/**
 * The fast encoder writes exactly @ipld/dag-cbor's bytes, and the check-only reader
 * refuses exactly what the decoder refuses: together they are what createEntry relies
 * on to never sign bytes a peer would reject.
 */
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CID, cidString } from '../src/index.js'
import { assertCanonical, decodeCanonical } from '../src/cbor.js'
import { encodeCanonical } from '../src/cbor-encode.js'

const cid = CID.parse('bafyreid24hyrwues4xolxnud3hdgkejmd65wixt5qgoxdcevz5s6jjxlbe')
const otherCid = CID.parse('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
const leaf = fc.oneof(
  fc.boolean(), fc.constant(null), fc.maxSafeInteger(), fc.integer({ min: -(2 ** 53) + 1, max: 0 }),
  fc.double(), fc.constantFrom(-0, 2 ** 60, -(2 ** 60), 2 ** 53, Number.MAX_VALUE, 0.5),
  fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.uint8Array({ maxLength: 300 }),
  fc.constant(cid), fc.constant(otherCid), fc.constant(undefined), fc.bigInt()
)
const key = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 4 }))
const value = fc.letrec(tie => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(key.filter(k => k !== '__proto__'), tie('v'), { maxKeys: 6 }))
})).v

/** The bytes, or the error message, of an encoder. */
function outcome (encode: (v: unknown) => Uint8Array, v: unknown): string {
  try {
    return Buffer.from(encode(v)).toString('hex')
  } catch (err) {
    return `error: ${(err as Error).message}`
  }
}

function refusal (check: (b: Uint8Array) => unknown, bytes: Uint8Array): string {
  try {
    check(bytes)
    return 'ok'
  } catch (err) {
    return `${(err as { kind?: string }).kind ?? 'other'}: ${(err as Error).message}`
  }
}

describe('encodeCanonical', () => {
  it('returns what @ipld/dag-cbor returns (bytes or error) for any value', () => {
    fc.assert(fc.property(value, (v) => {
      expect(outcome(encodeCanonical, v)).toBe(outcome(dagCbor.encode, v))
    }), { seed: 7, numRuns: 2000 })
  })

  it('agrees on the odd cases: holes, class instances, null prototypes, long and non-ASCII text, big heads', () => {
    class Point { x = 1 }
    const nullProto = Object.assign(Object.create(null) as object, { b: 1, a: 2 })
    const cases: unknown[] = [
      [1, , 3], new Point(), nullProto, new Date(0), new Map([['a', 1]]), NaN, Infinity, 'é'.repeat(300),
      { é: 1, e: 2, ee: 3 }, 'x'.repeat(70_000), 2 ** 32, 2 ** 32 - 1, 65_535, 65_536, 255, 256, 23, 24, -24, -25,
      new Uint16Array([1, 2]), Buffer.from('ab')
    ]
    for (const v of cases) expect(outcome(encodeCanonical, v)).toBe(outcome(dagCbor.encode, v))
  })
})

describe('assertCanonical', () => {
  it('refuses exactly what decodeCanonical refuses, with the same kind and message', () => {
    const mutated = fc.tuple(value, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }))
      .map(([v, flips]) => {
        let bytes: Uint8Array
        try {
          bytes = dagCbor.encode(v)
        } catch {
          bytes = Uint8Array.from([0xf7])
        }
        for (const [at, b] of flips) if (bytes.length > 0) bytes[at % bytes.length] = b
        return bytes
      })
    fc.assert(fc.property(mutated, (bytes) => {
      expect(refusal(assertCanonical, bytes)).toBe(refusal(decodeCanonical, bytes))
    }), { seed: 11, numRuns: 3000 })
  })
})

describe('cidString', () => {
  it('is cid.toString() for entry CIDs and others', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (digest) => {
      const bytes = Uint8Array.from([0x01, 0x71, 0x12, 0x20, ...digest])
      const c = CID.decode(bytes)
      expect(cidString(c)).toBe(CID.decode(bytes).toString())
    }), { seed: 3, numRuns: 300 })
    expect(cidString(otherCid)).toBe(otherCid.toString())
  })
})

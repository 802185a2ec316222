/**
 * decodeHeartbeat reads canonical heartbeats in one pass and checks the signature over a slice of
 * them; any other encoding takes the general decoder and the re-encoded fields. Both paths must give
 * the same verdict (PROTOCOL §12.3 accepts non-canonical heartbeats), and no changed byte may pass.
 */
import { describe, expect, it } from 'vitest'
import * as dagCbor from '@ipld/dag-cbor'
import {
  BadSignatureError, decodeHeartbeat, encodeHeartbeat, keyPairFromSecret, MalformedEntryError
} from '../src/index.js'

const keys = keyPairFromSecret(new Uint8Array(32).fill(7))
const fields = {
  measurement: 'a'.repeat(64), policyDigest: 'b'.repeat(64), entries: 12, headsHash: 'c'.repeat(32),
  addrs: ['/ip4/127.0.0.1/tcp/4001', '/ip4/10.0.0.2/tcp/4001'], time: 1_796_000_000_000
}
const bytes = encodeHeartbeat(fields, keys)

/** The same heartbeat with `v` moved after `sig`: valid DAG-CBOR, not canonical. */
function reordered (b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length)
  out[0] = b[0]!
  out.set(b.subarray(4, 74), 1)
  out.set(b.subarray(1, 4), 71)
  out.set(b.subarray(74), 74)
  return out
}

describe('decodeHeartbeat', () => {
  it('accepts a canonical heartbeat and returns its fields', () => {
    const hb = decodeHeartbeat(bytes)
    expect(hb).toMatchObject({ ...fields, v: 1 })
    expect(hb.nodeHex).toBe(Buffer.from(keys.publicKey).toString('hex'))
    expect(dagCbor.encode(dagCbor.decode(bytes))).toEqual(bytes)
  })

  it('gives a non-canonical encoding of the same fields the same verdict', () => {
    const other = reordered(bytes)
    expect(other).not.toEqual(bytes)
    expect(decodeHeartbeat(other)).toMatchObject({ ...fields, v: 1 })
  })

  it('refuses every single changed byte, on both paths', () => {
    for (const encoding of [bytes, reordered(bytes)]) {
      for (let i = 0; i < encoding.length; i++) {
        for (const flip of [0x01, 0x80]) {
          const bad = encoding.slice()
          bad[i] = bad[i]! ^ flip
          let caught: unknown
          try { decodeHeartbeat(bad) } catch (err) { caught = err }
          expect(caught instanceof MalformedEntryError || caught instanceof BadSignatureError, `byte ${i} ^ ${flip}`)
            .toBe(true)
        }
      }
    }
  })

  it('refuses a signature by another key', () => {
    const forged = encodeHeartbeat(fields, keyPairFromSecret(new Uint8Array(32).fill(8)))
    const withVictim = dagCbor.decode<Record<string, unknown>>(forged)
    withVictim.node = keys.publicKey
    expect(() => decodeHeartbeat(dagCbor.encode(withVictim))).toThrow(BadSignatureError)
  })
})

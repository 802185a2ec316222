/**
 * The entry paths' shortcuts (shared scratch buffers, cached key objects, no re-sorting of
 * keys already in order) change no verdict: the same bytes, the same signatures, the same
 * rejections as the plain encode / decode they replace.
 */
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  allocSmall, CID, cidOfBytes, cidString, createEntry, decodeEntry, encodeEntry, ENTRY_SIGNATURE_DOMAIN, keyHex,
  nobleCrypto, signingBytes, toHex, utf8, verifyEntrySignature
} from '../src/index.js'
import { create as createDigest } from 'multiformats/hashes/digest'
import { encodeCanonical, withEncoded } from '../src/cbor-encode.js'
import { createNodeCrypto } from '../src/node-crypto.js'
import { buildMesh, execBody, expectThrows, seedKey } from './helpers.js'

const node = createNodeCrypto()
const text = fc.string({ maxLength: 12 })
const value = fc.letrec(tie => ({
  v: fc.oneof({ depthSize: 'small' }, fc.integer(), text, fc.constant(null), fc.uint8Array({ maxLength: 80 }),
    fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(text.filter(k => k !== '__proto__'), tie('v'), { maxKeys: 6 }))
})).v

/** Flips the low bit of one byte in place. */
function flip (bytes: Uint8Array, at: number): void {
  bytes[at] = bytes[at]! ^ 1
}

function hexOrError (f: () => Uint8Array): string {
  try {
    return Buffer.from(f()).toString('hex')
  } catch (err) {
    return `error: ${(err as Error).message}`
  }
}

describe('withEncoded', () => {
  it('hands over exactly the prefix and then encodeCanonical\'s bytes, for any value', () => {
    const prefix = utf8('prefix\0')
    fc.assert(fc.property(value, (v) => {
      const expected = hexOrError(() => {
        const body = dagCbor.encode(v)
        return Uint8Array.from([...prefix, ...body])
      })
      expect(hexOrError(() => withEncoded(prefix, v, m => m.slice()))).toBe(expected)
    }), { seed: 5, numRuns: 1000 })
  })

  it('keeps its view intact while the callback encodes other values', () => {
    const outer = { b: [1, 2, 3], a: 'outer' }
    const got = withEncoded(new Uint8Array([9]), outer, (view) => {
      const before = view.slice()
      const inner = encodeCanonical({ x: 'inner'.repeat(400) })
      expect(inner.length).toBeGreaterThan(2000)
      expect(view).toEqual(before)
      return view.slice()
    })
    expect(got).toEqual(Uint8Array.from([9, ...dagCbor.encode(outer)]))
  })

  it('falls back to @ipld/dag-cbor for values outside the fast path (and its error is what the caller gets)', () => {
    expect(withEncoded(new Uint8Array([1]), { big: 2n }, m => m.slice()))
      .toEqual(Uint8Array.from([1, ...dagCbor.encode({ big: 2n })]))
    expect(() => withEncoded(new Uint8Array(), { u: undefined }, m => m.slice())).toThrow()
  })
})

describe('entry fast paths', () => {
  const mesh = buildMesh({ label: 'fast-path', members: 2 })

  it('createEntry writes the same bytes as encoding the whole entry, and signs signingBytes', () => {
    for (let n = 0; n < 20; n++) {
      const body = { ...execBody(n), payload: { text: 'x'.repeat(n * 50) } }
      const s = createEntry(
        { mesh: mesh.meshId, seq: 1, prev: null, parents: [mesh.meshId], type: 'exec.request', body, time: n },
        mesh.members[0]!, node
      )
      expect(s.bytes).toEqual(encodeEntry(s.entry))
      expect(s.bytes).toEqual(dagCbor.encode(s.entry))
      expect(verifyEntrySignature(s.entry, node)).toBe(true)
      const message = signingBytes(s.entry)
      expect(message.subarray(0, ENTRY_SIGNATURE_DOMAIN.length)).toEqual(ENTRY_SIGNATURE_DOMAIN)
      expect(node.verify(s.entry.sig, message, s.entry.author)).toBe(true)
    }
  })

  it('decodeEntry verifies entries of growing and shrinking sizes in turn (the signing scratch is reused)', () => {
    const sizes = [0, 3000, 10, 60_000, 1, 500]
    const made = sizes.map((size, i) => createEntry({
      mesh: mesh.meshId, seq: 1, prev: null, parents: [mesh.meshId], type: 'exec.request',
      body: { ...execBody(i), payload: { text: 'y'.repeat(size) } }, time: i
    }, mesh.members[i % 2]!, node))
    for (let round = 0; round < 2; round++) {
      for (const s of made) expect(decodeEntry(s.bytes, { crypto: node, maxBytes: 1 << 20 }).id).toBe(s.id)
    }
  })

  it('a tampered entry after a valid, larger one is still refused (nothing of the last message survives)', () => {
    const big = createEntry({
      mesh: mesh.meshId, seq: 1, prev: null, parents: [mesh.meshId], type: 'exec.request',
      body: { ...execBody(1), payload: { text: 'z'.repeat(5000) } }, time: 1
    }, mesh.members[0]!, node)
    const small = createEntry({
      mesh: mesh.meshId, seq: 1, prev: null, parents: [mesh.meshId], type: 'exec.request', body: execBody(2), time: 2
    }, mesh.members[0]!, node)
    const tampered = small.bytes.slice()
    flip(tampered, tampered.length - 1) // the last parent's digest: still well-formed, so only the signature fails
    decodeEntry(big.bytes, { crypto: node, maxBytes: 1 << 20 })
    expectThrows(() => decodeEntry(tampered, { crypto: node }), 'BadSignatureError', 'entry.bad-signature')
    const resigned = small.bytes.slice()
    flip(resigned, 20) // inside the signature (its 64 bytes start at offset 15)
    decodeEntry(big.bytes, { crypto: node, maxBytes: 1 << 20 })
    expectThrows(() => decodeEntry(resigned, { crypto: node }), 'BadSignatureError', 'entry.bad-signature')
  })
})

describe('node:crypto key object cache', () => {
  it('a cached author key never verifies another key\'s signature, even one byte apart', () => {
    const crypto = createNodeCrypto({ keyCacheSize: 8 })
    const a = seedKey('cache/a')
    const b = seedKey('cache/b')
    const msg = utf8('message')
    const sigA = crypto.sign(msg, a.secretKey)
    const sigB = crypto.sign(msg, b.secretKey)
    expect(crypto.verify(sigA, msg, a.publicKey)).toBe(true) // caches a's key object
    expect(crypto.verify(sigB, msg, a.publicKey)).toBe(false)
    expect(crypto.verify(sigB, msg, b.publicKey)).toBe(true)
    expect(crypto.verify(sigA, msg, b.publicKey)).toBe(false)
    const near = a.publicKey.slice()
    flip(near, 31)
    expect(crypto.verify(sigA, msg, near)).toBe(false)
    // The cache holds the bytes it was given, not a view the caller may change later.
    const mutable = a.publicKey.slice()
    expect(crypto.verify(sigA, msg, mutable)).toBe(true)
    mutable.set(b.publicKey)
    expect(crypto.verify(sigA, msg, mutable)).toBe(false)
    expect(crypto.verify(sigB, msg, mutable)).toBe(true)
  })

  it('keys that share a cache slot each verify only their own signatures', () => {
    const crypto = createNodeCrypto({ keyCacheSize: 8 })
    const slot = (k: Uint8Array): number => ((k[0]! << 8) | k[1]!) % 8
    const a = seedKey('slot/a')
    let b = seedKey('slot/b0')
    for (let i = 1; slot(b.publicKey) !== slot(a.publicKey); i++) b = seedKey(`slot/b${i}`)
    const msg = utf8('same slot')
    const sigA = crypto.sign(msg, a.secretKey)
    const sigB = crypto.sign(msg, b.secretKey)
    for (let round = 0; round < 3; round++) {
      expect(crypto.verify(sigA, msg, a.publicKey)).toBe(true)
      expect(crypto.verify(sigA, msg, b.publicKey)).toBe(false)
      expect(crypto.verify(sigB, msg, b.publicKey)).toBe(true)
      expect(crypto.verify(sigB, msg, a.publicKey)).toBe(false)
    }
  })

  it('a cached signing key signs only for its own secret', () => {
    const crypto = createNodeCrypto()
    const a = seedKey('cache/sign/a')
    const b = seedKey('cache/sign/b')
    const msg = utf8('m')
    const sigA = crypto.sign(msg, a.secretKey)
    const sigB = crypto.sign(msg, b.secretKey)
    expect(sigB).not.toEqual(sigA)
    expect(crypto.verify(sigB, msg, b.publicKey)).toBe(true)
    expect(crypto.verify(crypto.sign(msg, a.secretKey), msg, a.publicKey)).toBe(true)
  })
})

describe('entry CID sharing', () => {
  const mesh = buildMesh({ label: 'cid-share', members: 2 })
  const made = Array.from({ length: 40 }, (_, i) => createEntry({
    mesh: mesh.meshId, seq: 1, prev: null, parents: [mesh.meshId], type: 'exec.request', body: execBody(i), time: i
  }, mesh.members[i % 2]!, node))

  it('cidString of any entry CID is multiformats\' own string, across slot collisions', () => {
    // Same last two digest bytes (the slot), different elsewhere: each keeps its own string.
    const a = made[0]!.cid
    const twin = CID.decode(Uint8Array.from(a.bytes.map((b, i) => i === 10 ? b ^ 0xff : b)))
    for (let round = 0; round < 3; round++) {
      for (const c of [a, twin, ...made.map(m => m.cid)]) expect(cidString(c)).toBe(c.toString())
    }
  })

  it('a CID whose bytes were changed after it was named gets the string of its new bytes', () => {
    const c = CID.decode(made[1]!.cid.bytes.slice())
    const before = cidString(c)
    flip(c.bytes, 20)
    expect(cidString(c)).not.toBe(before)
    expect(cidString(c)).toBe(CID.decode(c.bytes.slice()).toString())
  })

  it('decoded parents are the same values as the CIDs that were encoded, however often they repeat', () => {
    for (const m of made) {
      const d = decodeEntry(m.bytes, { crypto: node })
      expect(d.entry.mesh!.equals(mesh.meshId)).toBe(true)
      expect(d.entry.parents.map(p => p.toString())).toEqual([mesh.meshId.toString()])
      expect(d.entry.mesh!.bytes).toEqual(mesh.meshId.bytes)
      // The shared CID owns its bytes: not a view of the entry's bytes.
      const input = m.bytes.slice()
      const copy = decodeEntry(input, { crypto: node })
      input.fill(0)
      expect(copy.entry.mesh!.bytes).toEqual(mesh.meshId.bytes)
      expect(copy.cid.toString()).toBe(m.id)
    }
  })

  it('entry CIDs hashed into their own bytes are the CIDs multiformats builds, with either provider', () => {
    for (const crypto of [node, nobleCrypto]) {
      for (const m of made) {
        const cid = cidOfBytes(m.bytes, crypto)
        const expected = CID.createV1(0x71, createDigest(0x12, crypto.sha256(m.bytes)))
        expect(cid.equals(expected)).toBe(true)
        expect(cid.multihash.digest).toEqual(expected.multihash.digest)
        expect(cid.multihash.bytes).toEqual(expected.multihash.bytes)
        expect(cid.toString()).toBe(expected.toString())
      }
    }
  })
})

describe('small buffers from a shared slab', () => {
  it('are zeroed, never overlap, and a write to one is seen in no other', () => {
    const sizes = fc.sample(fc.integer({ min: 0, max: 2000 }), { seed: 11, numRuns: 400 })
    const views = sizes.map(n => allocSmall(n))
    views.forEach((v, i) => {
      expect(v.length).toBe(sizes[i])
      expect(v.every(b => b === 0)).toBe(true)
      v.fill((i % 255) + 1)
    })
    views.forEach((v, i) => { expect(v.every(b => b === (i % 255) + 1)).toBe(true) })
  })
})

describe('shared author hex', () => {
  it('is toHex of the key as it is now, across slot collisions and keys changed after use', () => {
    const keys = fc.sample(fc.uint8Array({ minLength: 32, maxLength: 32 }), { seed: 12, numRuns: 300 })
    // Same first two bytes (the slot): each still gets its own hex.
    keys.push(Uint8Array.from(keys[0]!.map((b, i) => i === 31 ? b ^ 1 : b)))
    for (let round = 0; round < 2; round++) for (const k of keys) expect(keyHex(k)).toBe(toHex(k))
    const k = keys[1]!.slice()
    expect(keyHex(k)).toBe(toHex(k))
    flip(k, 31)
    expect(keyHex(k)).toBe(toHex(k))
    expect(keyHex(new Uint8Array([7]))).toBe('07')
  })
})

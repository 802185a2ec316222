/**
 * The two crypto providers agree byte for byte (keys, signatures, hashes, and so
 * whole entries), and node identities match libp2p's own derivation.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { generateKeyPair as libp2pGenerateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import {
  createEntry, decodeEntry, decodeKeyFile, encodeKeyFile, fromHex, generateKeyPair, keyPairFromSecret,
  nobleCrypto, parsePublicKey, peerIdFromPublicKey, publicKeyFromPeerId, toHex, utf8, type CryptoProvider
} from '../src/index.js'
import { createNodeCrypto } from '../src/node-crypto.js'
import { buildMesh, execBody, expectThrows } from './helpers.js'

const node = createNodeCrypto()
const providers: CryptoProvider[] = [nobleCrypto, node]
const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
const message = fc.uint8Array({ minLength: 0, maxLength: 2048 })

describe('nobleCrypto and nodeCrypto agree', () => {
  it('RFC 8032 test vector 1 (empty message)', () => {
    const secret = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')
    const pub = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'
    const sig = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'
    for (const c of providers) {
      expect(toHex(c.publicKey(secret))).toBe(pub)
      expect(toHex(c.sign(new Uint8Array(), secret))).toBe(sig)
      expect(c.verify(fromHex(sig), new Uint8Array(), fromHex(pub))).toBe(true)
    }
  })

  it('sha256 known answers', () => {
    for (const c of providers) {
      expect(toHex(c.sha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
      expect(toHex(c.sha256(new Uint8Array()))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    }
  })

  it('same public key from the same secret', () => {
    fc.assert(fc.property(key32, (secret) => {
      expect(node.publicKey(secret)).toEqual(nobleCrypto.publicKey(secret))
    }), { seed: 42, numRuns: 100 })
  })

  it('identical signatures; each verifies the other; both reject tampering', () => {
    fc.assert(fc.property(key32, message, fc.nat(), (secret, msg, pick) => {
      const pub = nobleCrypto.publicKey(secret)
      const s1 = nobleCrypto.sign(msg, secret)
      const s2 = node.sign(msg, secret)
      expect(s2).toEqual(s1)
      expect(s1).toHaveLength(64)
      expect(node.verify(s1, msg, pub)).toBe(true)
      expect(nobleCrypto.verify(s2, msg, pub)).toBe(true)
      const badSig = s1.slice()
      badSig[pick % 64]! ^= 1 << (pick % 8)
      const badMsg = msg.length === 0 ? Uint8Array.from([0]) : msg.slice()
      if (msg.length > 0) badMsg[pick % msg.length]! ^= 1 << (pick % 8)
      for (const c of providers) {
        expect(c.verify(badSig, msg, pub)).toBe(false)
        expect(c.verify(s1, badMsg, pub)).toBe(false)
      }
    }), { seed: 42, numRuns: 60 })
  })

  it('a signature does not verify under another key', () => {
    fc.assert(fc.property(key32, key32, message, (k1, k2, msg) => {
      fc.pre(toHex(k1) !== toHex(k2))
      const sig = nobleCrypto.sign(msg, k1)
      for (const c of providers) expect(c.verify(sig, msg, c.publicKey(k2))).toBe(false)
    }), { seed: 42, numRuns: 30 })
  })

  it('sha256 is equal for random inputs', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), (data) => {
      expect(node.sha256(data)).toEqual(nobleCrypto.sha256(data))
    }), { seed: 42, numRuns: 100 })
  })

  it('malformed keys and signatures verify false instead of throwing', () => {
    const secret = new Uint8Array(32).fill(7)
    const pub = nobleCrypto.publicKey(secret)
    const sig = nobleCrypto.sign(utf8('m'), secret)
    for (const c of providers) {
      expect(c.verify(sig.subarray(0, 63), utf8('m'), pub)).toBe(false)
      expect(c.verify(sig, utf8('m'), pub.subarray(0, 31))).toBe(false)
      expect(c.verify(new Uint8Array(64), utf8('m'), pub)).toBe(false)
      expect(c.verify(sig, utf8('m'), new Uint8Array(32).fill(0xff))).toBe(false)
    }
  })

  it('a non-canonical S (s + L) is rejected by both (strict RFC 8032)', () => {
    const secret = new Uint8Array(32).fill(9)
    const pub = nobleCrypto.publicKey(secret)
    const msg = utf8('malleable')
    const sig = nobleCrypto.sign(msg, secret)
    // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
    const L = (1n << 252n) + 27742317777372353535851937790883648493n
    let s = 0n
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!)
    let t = s + L
    const mal = sig.slice()
    for (let i = 0; i < 32; i++) { mal[32 + i] = Number(t & 0xffn); t >>= 8n }
    expect(t).toBe(0n)
    for (const c of providers) {
      expect(c.verify(sig, msg, pub)).toBe(true)
      expect(c.verify(mal, msg, pub)).toBe(false)
    }
  })

  it('entries created with either provider are byte-identical and decode with the other', () => {
    const mesh = buildMesh({ label: 'crypto', members: 1 })
    const init = {
      mesh: mesh.meshId, seq: 1, prev: null, parents: [mesh.meshId], type: 'exec.request' as const, body: execBody(1),
      time: 1
    }
    const a = createEntry(init, mesh.members[0]!, nobleCrypto)
    const b = createEntry(init, mesh.members[0]!, node)
    expect(b.bytes).toEqual(a.bytes)
    expect(b.id).toBe(a.id)
    expect(decodeEntry(a.bytes, { crypto: node }).id).toBe(a.id)
    expect(decodeEntry(b.bytes, { crypto: nobleCrypto }).id).toBe(a.id)
  })

  it('the node provider works past its key cache bound', () => {
    const small = createNodeCrypto({ keyCacheSize: 2 })
    const keys = [1, 2, 3, 4].map(i => keyPairFromSecret(new Uint8Array(32).fill(i)))
    for (let round = 0; round < 2; round++) {
      for (const k of keys) {
        const sig = small.sign(utf8('x'), k.secretKey)
        expect(small.verify(sig, utf8('x'), k.publicKey)).toBe(true)
        expect(small.verify(sig, utf8('y'), k.publicKey)).toBe(false)
      }
    }
  })
})

describe('identity', () => {
  it('peerIdFromPublicKey matches libp2p for the same seed; publicKeyFromPeerId round-trips', async () => {
    const seeds = fc.sample(key32, { seed: 42, numRuns: 12 })
    for (const seed of seeds) {
      const ours = keyPairFromSecret(seed)
      const priv = await generateKeyPairFromSeed('Ed25519', seed)
      expect(priv.publicKey.raw).toEqual(ours.publicKey)
      const theirs = peerIdFromPrivateKey(priv).toString()
      const id = peerIdFromPublicKey(ours.publicKey)
      expect(id).toBe(theirs)
      expect(id.startsWith('12D3KooW')).toBe(true)
      expect(publicKeyFromPeerId(id)).toEqual(ours.publicKey)
      expect(peerIdFromString(id).publicKey!.raw).toEqual(ours.publicKey)
      expect(parsePublicKey(id)).toEqual(ours.publicKey)
      expect(parsePublicKey(toHex(ours.publicKey))).toEqual(ours.publicKey)
      expect(parsePublicKey(toHex(ours.publicKey).toUpperCase())).toEqual(ours.publicKey)
    }
  })

  it('publicKeyFromPeerId rejects what is not an Ed25519 identity PeerId', async () => {
    const secp = peerIdFromPrivateKey(await libp2pGenerateKeyPair('secp256k1')).toString()
    expectThrows(() => publicKeyFromPeerId(secp), 'InvalidKeyError', 'key.invalid', /not an Ed25519 identity PeerId/)
    expectThrows(() => publicKeyFromPeerId('not-base58-0OIl'), 'InvalidKeyError', 'key.invalid', /base58/)
    const valid = peerIdFromPublicKey(keyPairFromSecret(new Uint8Array(32).fill(1)).publicKey)
    expectThrows(() => publicKeyFromPeerId(valid.slice(0, -2)), 'InvalidKeyError', 'key.invalid')
    expectThrows(() => parsePublicKey('abcd'), 'InvalidKeyError', 'key.invalid')
    expectThrows(() => peerIdFromPublicKey(new Uint8Array(33)), 'InvalidKeyError', 'key.invalid', /32 bytes/)
    expectThrows(() => keyPairFromSecret(new Uint8Array(31)), 'InvalidKeyError', 'key.invalid')
  })

  it('generateKeyPair gives fresh, consistent key pairs', () => {
    const a = generateKeyPair()
    const b = generateKeyPair(node)
    expect(toHex(a.secretKey)).not.toBe(toHex(b.secretKey))
    expect(a.publicKey).toEqual(node.publicKey(a.secretKey))
    expect(b.publicKey).toEqual(nobleCrypto.publicKey(b.secretKey))
  })
})

describe('key files', () => {
  it('encode/decode round-trips through JSON text', () => {
    fc.assert(fc.property(key32, (seed) => {
      const keys = keyPairFromSecret(seed)
      const file = encodeKeyFile(keys)
      expect(file).toEqual(
        {
          type: 'govmesh-ed25519', publicKey: toHex(keys.publicKey), secretKey: toHex(seed),
          peerId: peerIdFromPublicKey(keys.publicKey)
        }
      )
      const back = decodeKeyFile(JSON.stringify(file, null, 2), node)
      expect(back.secretKey).toEqual(keys.secretKey)
      expect(back.publicKey).toEqual(keys.publicKey)
    }), { seed: 42, numRuns: 25 })
  })

  it('decodeKeyFile rejects a mismatched public key and malformed files', () => {
    const keys = keyPairFromSecret(new Uint8Array(32).fill(3))
    const other = keyPairFromSecret(new Uint8Array(32).fill(4))
    const file = encodeKeyFile(keys)
    expectThrows(
      () => decodeKeyFile(JSON.stringify({ ...file, publicKey: toHex(other.publicKey) })), 'InvalidKeyError',
      'key.invalid', /does not match/
    )
    expectThrows(() => decodeKeyFile('{'), 'InvalidKeyError', 'key.invalid', /not JSON/)
    expectThrows(() => decodeKeyFile('null'), 'InvalidKeyError', 'key.invalid', /type/)
    expectThrows(
      () => decodeKeyFile(JSON.stringify({ ...file, type: 'rsa' })), 'InvalidKeyError', 'key.invalid', /type/
    )
    expectThrows(
      () => decodeKeyFile(JSON.stringify({ ...file, secretKey: file.secretKey.slice(2) })), 'InvalidKeyError',
      'key.invalid', /secretKey/
    )
    expectThrows(
      () => decodeKeyFile(JSON.stringify({ ...file, secretKey: 'zz' + file.secretKey.slice(2) })), 'InvalidKeyError',
      'key.invalid', /secretKey/
    )
    // An upper-case public key is the same key.
    expect(
      decodeKeyFile(JSON.stringify({ ...file, publicKey: file.publicKey.toUpperCase() })).publicKey
    ).toEqual(keys.publicKey)
  })
})

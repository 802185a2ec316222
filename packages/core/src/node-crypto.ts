import * as nodeCryptoModule from 'node:crypto'
import {
  createHash, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject
} from 'node:crypto'
import type { CryptoProvider } from './crypto.js'

// DER prefixes for raw Ed25519 keys (RFC 8410): SPKI for public, PKCS#8 for private.
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])
const PKCS8_PREFIX = Uint8Array.from(
  [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
)

function withPrefix (prefix: Uint8Array, key: Uint8Array): Buffer {
  const out = Buffer.alloc(prefix.length + key.length)
  out.set(prefix, 0)
  out.set(key, prefix.length)
  return out
}

/** A plain Uint8Array over a Buffer's memory: no copy, and callers see the type the interface promises. */
function asUint8Array (buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}

// crypto.hash (Node 20.12+) skips the Hash object; fall back where it is missing.
const hashFn = (nodeCryptoModule as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash
const oneShotSha256 = hashFn === undefined ? undefined : (data: Uint8Array): Uint8Array => asUint8Array(
  hashFn('sha256', data, 'buffer')
)

/** Cache key of raw key bytes: one char per byte, built in one call. */
function keyId (key: Uint8Array): string {
  return String.fromCharCode.apply(null, key as unknown as number[])
}

/** Bounded cache: a mesh has few authors, but a hostile peer can invent many. */
class KeyCache {
  private readonly map = new Map<string, KeyObject>()
  constructor (private readonly max: number) {}
  get (key: Uint8Array, make: () => KeyObject): KeyObject {
    const id = keyId(key)
    let obj = this.map.get(id)
    if (obj === undefined) {
      obj = make()
      if (this.map.size >= this.max) this.map.clear()
      this.map.set(id, obj)
    }
    return obj
  }
}

/**
 * Creates the `node:crypto` provider: OpenSSL Ed25519 and SHA-256, about 15x faster
 * than the portable one. Public and private key objects are cached by key bytes
 * because building a KeyObject costs about as much as a verification.
 *
 * @example
 * ```ts
 * import { createNodeCrypto } from '@govmesh/core/node-crypto'
 * const crypto = createNodeCrypto()
 * const dag = createDag({ genesis, crypto })
 * ```
 */
export function createNodeCrypto (init: { keyCacheSize?: number } = {}): CryptoProvider {
  const publicKeys = new KeyCache(init.keyCacheSize ?? 4096)
  const privateKeys = new KeyCache(64)
  const privateKey = (secretKey: Uint8Array): KeyObject => privateKeys.get(secretKey, () =>
    createPrivateKey({ key: withPrefix(PKCS8_PREFIX, secretKey), format: 'der', type: 'pkcs8' }))
  return {
    name: 'node:crypto',
    sha256: oneShotSha256 ?? ((data) => asUint8Array(createHash('sha256').update(data).digest())),
    publicKey: (secretKey) => {
      const der = createPublicKey(privateKey(secretKey)).export({ format: 'der', type: 'spki' })
      return new Uint8Array(der.subarray(SPKI_PREFIX.length))
    },
    sign: (message, secretKey) => asUint8Array(nodeSign(null, message, privateKey(secretKey))),
    verify: (signature, message, publicKey) => {
      if (publicKey.length !== 32 || signature.length !== 64) return false
      try {
        const key = publicKeys.get(publicKey, () =>
          createPublicKey({ key: withPrefix(SPKI_PREFIX, publicKey), format: 'der', type: 'spki' }))
        return nodeVerify(null, message, key, signature)
      } catch {
        return false
      }
    }
  }
}

/** A shared default instance for callers that do not need their own cache. */
export const nodeCrypto: CryptoProvider = createNodeCrypto()

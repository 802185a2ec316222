import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'

/**
 * The primitives the core needs. `nobleCrypto` is the portable reference (also used
 * by the offline proof verifier and the browser); the daemon passes the faster
 * `node:crypto` provider from `@govmesh/core/node-crypto`. Both must agree byte for
 * byte, which the test suite checks. The `message` given to `sign` and `verify` may be a view of
 * a buffer the core reuses (the entry paths encode into scratch): read it during the call, and
 * copy it to keep it.
 */
export interface CryptoProvider {
  readonly name: string
  sha256: (data: Uint8Array) => Uint8Array
  /**
   * Optional: writes the SHA-256 of `data` into `out` at `offset` (32 bytes), for callers that
   * keep the digest inside a larger buffer (an entry CID) and need no buffer of the digest alone.
   */
  sha256Into?: (data: Uint8Array, out: Uint8Array, offset: number) => void
  /** Ed25519 public key (32 bytes) of a 32-byte secret seed. */
  publicKey: (secretKey: Uint8Array) => Uint8Array
  sign: (message: Uint8Array, secretKey: Uint8Array) => Uint8Array
  verify: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean
}

/** Portable pure-JS provider (@noble/curves, @noble/hashes). */
export const nobleCrypto: CryptoProvider = {
  name: 'noble',
  sha256: (data) => sha256(data),
  publicKey: (secretKey) => ed25519.getPublicKey(secretKey),
  sign: (message, secretKey) => ed25519.sign(message, secretKey),
  verify: (signature, message, publicKey) => {
    try {
      // zip215 false: strict RFC 8032 verification, which is what node:crypto (OpenSSL) does.
      return ed25519.verify(signature, message, publicKey, { zip215: false })
    } catch {
      return false
    }
  }
}

/** Random bytes from the platform CSPRNG (WebCrypto exists in Node 20 and browsers). */
export function randomBytes (length: number): Uint8Array {
  const out = new Uint8Array(length)
  globalThis.crypto.getRandomValues(out)
  return out
}

import { nobleCrypto, randomBytes, type CryptoProvider } from './crypto.js'
import { fromHex, toHex } from './bytes.js'
import { InvalidKeyError } from './errors.js'
import { assertKeyBytes, peerIdFromPublicKey } from './peer-id.js'

/** An Ed25519 key pair: the 32-byte secret seed and its 32-byte public key. */
export interface KeyPair {
  secretKey: Uint8Array
  publicKey: Uint8Array
}

/** JSON shape of a key file on disk (mode 0600). */
export interface KeyFile {
  type: 'govmesh-ed25519'
  publicKey: string
  secretKey: string
  peerId: string
}

/**
 * Generates a new key pair from the platform CSPRNG.
 *
 * @example
 * ```ts
 * const keys = generateKeyPair()
 * console.log(peerIdFromPublicKey(keys.publicKey)) // 12D3KooW...
 * ```
 */
export function generateKeyPair (crypto: CryptoProvider = nobleCrypto): KeyPair {
  return keyPairFromSecret(randomBytes(32), crypto)
}

/** Rebuilds the key pair of a 32-byte secret seed. */
export function keyPairFromSecret (secretKey: Uint8Array, crypto: CryptoProvider = nobleCrypto): KeyPair {
  assertKeyBytes(secretKey, 'secretKey')
  return { secretKey, publicKey: crypto.publicKey(secretKey) }
}

/** Serializes a key pair as the JSON written to key files. */
export function encodeKeyFile (keys: KeyPair): KeyFile {
  return {
    type: 'govmesh-ed25519',
    publicKey: toHex(keys.publicKey),
    secretKey: toHex(keys.secretKey),
    peerId: peerIdFromPublicKey(keys.publicKey)
  }
}

/** Parses and checks a key file's JSON text: the public key must match the secret. */
export function decodeKeyFile (text: string, crypto: CryptoProvider = nobleCrypto): KeyPair {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new InvalidKeyError('key file: not JSON')
  }
  const obj = json as Partial<KeyFile> | null
  if (obj === null || typeof obj !== 'object' || obj.type !== 'govmesh-ed25519') {
    throw new InvalidKeyError('key file: type must be "govmesh-ed25519"')
  }
  if (typeof obj.secretKey !== 'string' || !/^[0-9a-f]{64}$/i.test(obj.secretKey)) {
    throw new InvalidKeyError('key file: secretKey must be 64 hex characters')
  }
  const keys = keyPairFromSecret(fromHex(obj.secretKey), crypto)
  if (typeof obj.publicKey === 'string' && obj.publicKey.toLowerCase() !== toHex(keys.publicKey)) {
    throw new InvalidKeyError('key file: publicKey does not match secretKey')
  }
  return keys
}

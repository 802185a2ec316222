import { base58btc } from 'multiformats/bases/base58'
import { nobleCrypto, randomBytes, type CryptoProvider } from './crypto.js'
import { equalBytes, fromHex, toHex } from './bytes.js'
import { InvalidKeyError } from './errors.js'

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

// libp2p encodes an Ed25519 public key as protobuf { Type = 1 (Ed25519), Data = key }
// and, since that is under 42 bytes, the PeerId is its identity multihash.
const PROTOBUF_ED25519_PREFIX = Uint8Array.from([0x08, 0x01, 0x12, 0x20])
const IDENTITY_MULTIHASH_PREFIX = Uint8Array.from([0x00, 0x24])

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

/**
 * The libp2p PeerId string (base58btc, `12D3KooW...`) of an Ed25519 public key.
 *
 * @example
 * ```ts
 * peerIdFromPublicKey(keys.publicKey)
 * ```
 */
export function peerIdFromPublicKey (publicKey: Uint8Array): string {
  assertKeyBytes(publicKey, 'publicKey')
  const mh = new Uint8Array(IDENTITY_MULTIHASH_PREFIX.length + PROTOBUF_ED25519_PREFIX.length + 32)
  mh.set(IDENTITY_MULTIHASH_PREFIX, 0)
  mh.set(PROTOBUF_ED25519_PREFIX, 2)
  mh.set(publicKey, 6)
  // multiformats prefixes multibase 'z'; a libp2p PeerId string is bare base58btc.
  return base58btc.encode(mh).slice(1)
}

/** The Ed25519 public key inside a PeerId string; throws InvalidKeyError for any other kind. */
export function publicKeyFromPeerId (peerId: string): Uint8Array {
  let mh: Uint8Array
  try {
    mh = base58btc.decode('z' + peerId)
  } catch {
    throw new InvalidKeyError(`peerId: not base58btc: ${JSON.stringify(peerId.slice(0, 64))}`)
  }
  if (mh.length !== 38 || !equalBytes(mh.subarray(0, 2), IDENTITY_MULTIHASH_PREFIX) ||
      !equalBytes(mh.subarray(2, 6), PROTOBUF_ED25519_PREFIX)) {
    throw new InvalidKeyError('peerId: not an Ed25519 identity PeerId')
  }
  return mh.slice(6)
}

/**
 * Parses a member key given as a PeerId or as 64 hex characters.
 */
export function parsePublicKey (text: string): Uint8Array {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return fromHex(text)
  return publicKeyFromPeerId(text)
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

function assertKeyBytes (key: Uint8Array, label: string): void {
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new InvalidKeyError(`${label}: expected 32 bytes, got ${key instanceof Uint8Array ? key.length : typeof key}`)
  }
}

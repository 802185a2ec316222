// Kept apart from identity.ts (which needs an Ed25519 implementation) so that clients that only
// name peers, like `govmesh status`, load neither crypto nor CBOR (see light.ts).
import { base58btc } from 'multiformats/bases/base58'
import { equalBytes, fromHex } from './bytes.js'
import { InvalidKeyError } from './errors.js'

// libp2p encodes an Ed25519 public key as protobuf { Type = 1 (Ed25519), Data = key }
// and, since that is under 42 bytes, the PeerId is its identity multihash.
const PROTOBUF_ED25519_PREFIX = Uint8Array.from([0x08, 0x01, 0x12, 0x20])
const IDENTITY_MULTIHASH_PREFIX = Uint8Array.from([0x00, 0x24])

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

/** Throws InvalidKeyError unless `key` is 32 bytes (an Ed25519 public key or seed). */
export function assertKeyBytes (key: Uint8Array, label: string): void {
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new InvalidKeyError(`${label}: expected 32 bytes, got ${key instanceof Uint8Array ? key.length : typeof key}`)
  }
}

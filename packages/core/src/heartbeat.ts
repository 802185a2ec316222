import * as dagCbor from '@ipld/dag-cbor'
import { concatBytes, toHex, utf8 } from './bytes.js'
import { decodeCanonical } from './cbor.js'
import { encodeCanonical } from './cbor-encode.js'
import { nobleCrypto, type CryptoProvider } from './crypto.js'
import { BadSignatureError, MalformedEntryError } from './errors.js'

/** Domain tag of attestation heartbeats (gossip only, never in the DAG). */
export const HEARTBEAT_DOMAIN = utf8('govmesh/heartbeat/v1\0')
export const MAX_HEARTBEAT_BYTES = 8 * 1024

/** A node's signed attestation: what it runs, which policy it holds, how far its DAG goes, where to reach it. */
export interface Heartbeat {
  v: 1
  /** Ed25519 public key of the node. */
  node: Uint8Array
  /** Hex runtime measurement (hash of code and config). */
  measurement: string
  policyDigest: string
  /** Number of accepted entries and a hash of the sorted heads, a cheap frontier summary. */
  entries: number
  headsHash: string
  addrs: string[]
  time: number
  sig: Uint8Array
}

export interface VerifiedHeartbeat extends Heartbeat {
  /** Hex key of the node. */
  nodeHex: string
}

function unsigned (h: Omit<Heartbeat, 'sig'>): Uint8Array {
  return concatBytes(HEARTBEAT_DOMAIN, encodeCanonical({
    v: h.v, node: h.node, measurement: h.measurement, policyDigest: h.policyDigest,
    entries: h.entries, headsHash: h.headsHash, addrs: h.addrs, time: h.time
  }))
}

/** In canonical key order the map starts with `v` (3 bytes: key, 1) and then `sig` (key 4 bytes, value 2 + 64). */
const V_FIELD = [0x61, 0x76, 0x01]
const SIG_FIELD_PREFIX = [0x63, 0x73, 0x69, 0x67, 0x58, 0x40]
const SIG_FIELD_END = 1 + V_FIELD.length + SIG_FIELD_PREFIX.length + 64

/**
 * The signed bytes of a canonical nine-field heartbeat, cut from it: the domain, an eight-entry map
 * header, and the map without its `sig` field. Equal to re-encoding the fields without `sig`, because
 * the remaining keys keep their canonical order.
 */
function unsignedSlice (bytes: Uint8Array): Uint8Array {
  const layoutOk = bytes[0] === 0xa9 && V_FIELD.every((b, i) => bytes[1 + i] === b) &&
    SIG_FIELD_PREFIX.every((b, i) => bytes[1 + V_FIELD.length + i] === b)
  if (!layoutOk) throw new MalformedEntryError('heartbeat: wrong shape')
  const out = new Uint8Array(HEARTBEAT_DOMAIN.length + bytes.length - (SIG_FIELD_END - 1 - V_FIELD.length))
  out.set(HEARTBEAT_DOMAIN, 0)
  let at = HEARTBEAT_DOMAIN.length
  out[at++] = 0xa8
  out.set(bytes.subarray(1, 1 + V_FIELD.length), at)
  at += V_FIELD.length
  out.set(bytes.subarray(SIG_FIELD_END), at)
  return out
}

/**
 * Creates and encodes a signed heartbeat.
 *
 * @example
 * ```ts
 * const bytes = encodeHeartbeat({
 *   measurement, policyDigest, entries: dag.size, headsHash, addrs, time: Date.now()
 * }, nodeKeys)
 * ```
 */
export function encodeHeartbeat (
  h: Omit<Heartbeat, 'sig' | 'node' | 'v'>, keys: { secretKey: Uint8Array, publicKey: Uint8Array },
  crypto: CryptoProvider = nobleCrypto
): Uint8Array {
  const body = { v: 1 as const, node: keys.publicKey, ...h }
  const sig = crypto.sign(unsigned(body), keys.secretKey)
  return encodeCanonical({ ...body, sig })
}

/** Decodes and verifies a heartbeat; throws MalformedEntryError or BadSignatureError. */
export function decodeHeartbeat (bytes: Uint8Array, crypto: CryptoProvider = nobleCrypto): VerifiedHeartbeat {
  if (bytes.length > MAX_HEARTBEAT_BYTES) throw new MalformedEntryError(
    `heartbeat is ${bytes.length} bytes, limit ${MAX_HEARTBEAT_BYTES}`
  )
  let h: Heartbeat
  // Canonical bytes (what every reference node sends) are read in one pass and signed over a slice of
  // themselves; anything else takes the general decoder and is re-encoded, with the same verdict.
  let canonical = true
  try {
    h = decodeCanonical(bytes) as Heartbeat
  } catch {
    canonical = false
    try {
      h = dagCbor.decode(bytes)
    } catch (err) {
      throw new MalformedEntryError(`heartbeat is not dag-cbor: ${(err as Error).message}`)
    }
  }
  const ok = h !== null && typeof h === 'object' && h.v === 1 &&
    h.node instanceof Uint8Array && h.node.length === 32 &&
    typeof h.measurement === 'string' && h.measurement.length <= 128 &&
    typeof h.policyDigest === 'string' && h.policyDigest.length <= 128 &&
    Number.isSafeInteger(h.entries) && typeof h.headsHash === 'string' && h.headsHash.length <= 128 &&
    Array.isArray(h.addrs) && h.addrs.length <= 16 && h.addrs.every(a => typeof a === 'string' && a.length <= 256) &&
    Number.isSafeInteger(h.time) && h.sig instanceof Uint8Array && h.sig.length === 64 && Object.keys(h).length === 9
  if (!ok) throw new MalformedEntryError('heartbeat: wrong shape')
  const signed = canonical ? unsignedSlice(bytes) : unsigned(h)
  if (!crypto.verify(h.sig, signed, h.node)) throw new BadSignatureError('heartbeat: signature does not verify')
  return { ...h, nodeHex: toHex(h.node) }
}

/** Hash of sorted head ids, so two nodes can tell cheaply whether their DAGs agree. */
export function headsHash (heads: readonly string[], crypto: CryptoProvider = nobleCrypto): string {
  return toHex(crypto.sha256(utf8([...heads].sort().join(',')))).slice(0, 32)
}

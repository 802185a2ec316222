import { CID } from 'multiformats/cid'
import { Digest } from 'multiformats/hashes/digest'
import { allocSmall } from './bytes.js'
import type { CryptoProvider } from './crypto.js'

/** Multicodec of dag-cbor, the CID codec of every entry. */
export const DAG_CBOR_CODE = 0x71
/** Multihash code of sha2-256. */
export const SHA2_256_CODE = 0x12

/** Version 1, dag-cbor, sha2-256, 32 bytes: every varint fits one byte, so this prefix is also the minimal form. */
const ENTRY_CID_PREFIX = Uint8Array.from([0x01, DAG_CBOR_CODE, SHA2_256_CODE, 0x20])
const ENTRY_CID_BYTES = ENTRY_CID_PREFIX.length + 32

/** True when `raw` is the binary form of an entry CID (CIDv1, dag-cbor, sha2-256). */
export function isEntryCidBytes (raw: Uint8Array): boolean {
  return raw.length === ENTRY_CID_BYTES && raw[0] === 0x01 && raw[1] === DAG_CBOR_CODE &&
    raw[2] === SHA2_256_CODE && raw[3] === 0x20
}

/**
 * Entry CIDs repeat across entries (the mesh id in every one, each head in the entries that cite it),
 * so decoding shares one CID object per recent value instead of building five objects each time.
 * Direct-mapped by two digest bytes (SHA-256 output, so uniform); a collision only replaces the slot.
 */
const CID_SLOTS = 4096
const internedCids: Array<CID | undefined> = new Array<CID | undefined>(CID_SLOTS)

/** Slot of an entry CID's binary form: two bytes of its digest. */
function slotOf (raw: Uint8Array): number {
  return (raw[ENTRY_CID_BYTES - 1]! | (raw[ENTRY_CID_BYTES - 2]! << 8)) & (CID_SLOTS - 1)
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  for (let i = ENTRY_CID_BYTES - 1; i >= 0; i--) if (a[i] !== b[i]) return false
  return true
}

/**
 * An entry CID from its binary form, built without re-parsing varints (the
 * caller checked {@link isEntryCidBytes}). The CID owns its bytes (a copy, never a view of
 * `raw`); a recently decoded CID with the same bytes is returned as it is.
 */
export function entryCidFromBytes (raw: Uint8Array): CID {
  const slot = slotOf(raw)
  const known = internedCids[slot]
  // Compared with the CID's bytes as they are now, so what is returned always has `raw`'s bytes.
  if (known !== undefined && sameBytes(known.bytes, raw)) return known
  const bytes = allocSmall(ENTRY_CID_BYTES)
  bytes.set(raw, 0)
  const cid = entryCidOver(bytes)
  internedCids[slot] = cid
  return cid
}

/** The CID whose binary form is `bytes` (an entry CID's 36 bytes, owned by the CID from now on). */
function entryCidOver (bytes: Uint8Array): CID {
  return new CID(1, DAG_CBOR_CODE, new Digest(SHA2_256_CODE, 32, bytes.subarray(4), bytes.subarray(2)), bytes)
}

/**
 * The entry CID of `data` (sha2-256): the digest is written straight into the CID's bytes when the
 * provider can (`sha256Into`), so no buffer of the digest alone is allocated.
 */
export function entryCidOfBytes (data: Uint8Array, crypto: CryptoProvider): CID {
  if (crypto.sha256Into === undefined) return entryCidFromDigest(crypto.sha256(data))
  const bytes = allocSmall(ENTRY_CID_BYTES)
  bytes.set(ENTRY_CID_PREFIX, 0)
  crypto.sha256Into(data, bytes, ENTRY_CID_PREFIX.length)
  return entryCidOver(bytes)
}

/** The entry CID of a sha2-256 digest: the same CID as `CID.createV1(0x71, Digest.create(0x12, digest))`. */
export function entryCidFromDigest (digest: Uint8Array): CID {
  const bytes = allocSmall(ENTRY_CID_BYTES)
  bytes.set(ENTRY_CID_PREFIX, 0)
  bytes.set(digest, ENTRY_CID_PREFIX.length)
  return entryCidOver(bytes)
}

const BASE32 = Uint8Array.from('abcdefghijklmnopqrstuvwxyz234567', c => c.charCodeAt(0))
const MULTIBASE_BASE32 = 0x62 // 'b'
const chars = new Uint16Array(1 + Math.ceil(ENTRY_CID_BYTES * 8 / 5))

/**
 * `cid.toString()` (multibase base32, the form every index uses), computed directly for
 * entry CIDs. multiformats caches each CID's strings in a WeakMap, which for CIDs that are
 * decoded once and dropped costs more than encoding, mostly in the garbage collector.
 *
 * @example
 * ```ts
 * cidString(signed.cid) === signed.cid.toString() // true
 * ```
 */
export function cidString (cid: CID): string {
  const raw = cid.bytes
  if (cid.version !== 1 || !isEntryCidBytes(raw)) return cid.toString()
  // The same CIDs are named again and again (parents, prevs, lookups): one string per recent value,
  // whose hash the index maps then already know. The slot keeps its own copy of the bytes.
  const slot = slotOf(raw)
  const knownBytes = stringSlotBytes[slot]
  if (knownBytes !== undefined && sameBytes(knownBytes, raw)) return stringSlotText[slot]!
  const text = base32Of(raw)
  stringSlotBytes[slot] = raw.slice()
  stringSlotText[slot] = text
  return text
}

const BASE32_VALUE = new Int8Array(128).fill(-1)
for (let i = 0; i < BASE32.length; i++) BASE32_VALUE[BASE32[i]!] = i
/** Characters of an entry CID's string: the multibase prefix and ⌈36 · 8 / 5⌉ base32 digits. */
const ENTRY_CID_CHARS = 1 + Math.ceil(ENTRY_CID_BYTES * 8 / 5)

/**
 * The CID a string names, decoded directly when it is an entry CID in the form {@link cidString}
 * writes (any other CID through `CID.parse`, which throws on what is not one). For the ids a node
 * holds, where parsing through multiformats caches every string it sees.
 *
 * @example
 * ```ts
 * parseEntryCid(signed.id).equals(signed.cid) // true
 * ```
 */
export function parseEntryCid (id: string): CID {
  const raw = allocSmall(ENTRY_CID_BYTES)
  return writeEntryCidBytes(id, raw, 0) ? entryCidOver(raw) : CID.parse(id)
}

/**
 * Writes the 36 bytes of the entry CID that `id` names into `out` at `offset` and returns true;
 * false (and `out` partly written) when `id` is not an entry CID in the form {@link cidString}
 * writes. For encoders that put CIDs into a larger buffer (a proof's CAR) without a CID object.
 *
 * @example
 * ```ts
 * if (!writeEntryCidBytes(id, car, at)) car.set(CID.parse(id).bytes, at)
 * ```
 */
export function writeEntryCidBytes (id: string, out: Uint8Array, offset: number): boolean {
  if (id.length !== ENTRY_CID_CHARS || id.charCodeAt(0) !== MULTIBASE_BASE32) return false
  let n = 0
  let bits = 0
  let acc = 0
  for (let i = 1; i < id.length; i++) {
    const c = id.charCodeAt(i)
    const v = c < 128 ? BASE32_VALUE[c]! : -1
    if (v < 0) return false
    acc = ((acc << 5) | v) & 0xfff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[offset + n++] = (acc >>> bits) & 0xff
    }
  }
  // Padding bits must be zero, as the encoder writes them: else the string is not this CID's form.
  if (n !== ENTRY_CID_BYTES || (acc & ((1 << bits) - 1)) !== 0) return false
  for (let i = 0; i < ENTRY_CID_PREFIX.length; i++) if (out[offset + i] !== ENTRY_CID_PREFIX[i]) return false
  return true
}

const stringSlotBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(CID_SLOTS)
const stringSlotText: string[] = new Array<string>(CID_SLOTS)

function base32Of (raw: Uint8Array): string {
  let n = 0
  let bits = 0
  let acc = 0
  chars[n++] = MULTIBASE_BASE32
  for (let i = 0; i < raw.length; i++) {
    acc = ((acc & 0xff) << 8) | raw[i]!
    bits += 8
    while (bits >= 5) {
      bits -= 5
      chars[n++] = BASE32[(acc >>> bits) & 31]!
    }
  }
  if (bits > 0) chars[n++] = BASE32[(acc << (5 - bits)) & 31]!
  return String.fromCharCode.apply(null, chars.subarray(0, n) as unknown as number[])
}

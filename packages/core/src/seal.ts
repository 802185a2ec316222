import type { CID } from 'multiformats/cid'
import { equalBytes, toHex, utf8 } from './bytes.js'
import type { CryptoProvider } from './crypto.js'
import { encodeCanonical } from './cbor-encode.js'
import { foldPath, pathLength } from './merkle.js'
import type { EntryType } from './bodies.js'

/** Protocol version of a sealed entry (docs/PROTOCOL.md §24). */
export const SEALED_ENTRY_VERSION = 2
/** Most entries in one batch: audit paths stay at most 8 hashes. */
export const MAX_SEAL_BATCH = 256
/** Domain of the batch signature, distinct from every other signed message. */
export const SEAL_SIGNATURE_DOMAIN = utf8('govmesh/seal/v2\0')
/** Entry types that may be sealed: execution records; governance and trust keep one signature each. */
export const SEALABLE_TYPES: ReadonlySet<EntryType> = new Set(
  ['exec.request', 'exec.hop', 'exec.refuse', 'exec.result']
)

/** Where a sealed entry sits in its batch, and the batch root its path folds to. */
export interface EntrySeal {
  root: Uint8Array
  count: number
  index: number
  path: Uint8Array[]
}

/** The signed statement of a batch: this author sealed `count` leaves under `root` in this mesh. */
export interface SealHeader {
  mesh: CID
  author: Uint8Array
  root: Uint8Array
  count: number
}

/** The nine unsigned fields of an entry, as they go into a leaf. */
export interface LeafFields {
  v: number
  mesh: CID | null
  author: Uint8Array
  seq: number
  prev: CID | null
  parents: CID[]
  type: string
  body: unknown
  time: number
}

const LEAF_PREFIX = 0x00

/**
 * The leaf hash of an entry in a batch: SHA-256(0x00 || dag-cbor of its unsigned fields), with `prev`
 * left out (null) past index 0, because a batch-mate's CID depends on the root (§24.2).
 */
export function sealLeaf (e: LeafFields, index: number, crypto: CryptoProvider): Uint8Array {
  // Canonical key order, so the encoder need not sort.
  const unsigned = encodeCanonical({
    v: e.v, seq: e.seq, body: e.body, mesh: e.mesh, prev: index === 0 ? e.prev : null,
    time: e.time, type: e.type, author: e.author, parents: e.parents
  })
  const buf = new Uint8Array(1 + unsigned.length)
  buf[0] = LEAF_PREFIX
  buf.set(unsigned, 1)
  return crypto.sha256(buf)
}

const SIG_PAIR = Uint8Array.from([0x63, 0x73, 0x69, 0x67, 0x58, 0x40]) // "sig", bytes(64)
const SIG_PAIR_BYTES = 70
const PREV_KEY = Uint8Array.from([0x64, 0x70, 0x72, 0x65, 0x76]) // "prev"
const SEAL_KEY = Uint8Array.from([0x64, 0x73, 0x65, 0x61, 0x6c]) // "seal"
const CID_PAIR_BYTES = 41 // tag 42, bytes(37): 0x00 and a 36-byte entry CID
const NULL = 0xf6

function startsWith (bytes: Uint8Array, at: number, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false
  return true
}

/** Where the pairs of a canonical sealed entry sit (keys: v seq sig body mesh prev seal time type author parents). */
export interface SealedLayout {
  /** Start of the `sig` pair (6 bytes of key and head, then the 64 signature bytes). */
  sigAt: number
  /** Start of `prev`'s value: null (1 byte) or a CID (41 bytes). */
  prevValueAt: number
  /** Start and end of the `seal` pair. */
  sealAt: number
  sealEnd: number
}

/**
 * The layout of a sealed entry's canonical bytes, found from the fields that follow `seal`
 * (encoded again: they are small) instead of parsing the body. Undefined when the bytes are
 * not laid out as expected; callers then encode instead.
 */
export function sealedLayout (bytes: Uint8Array, e: LeafFields & { seal: EntrySeal }): SealedLayout | undefined {
  if (bytes[0] !== 0xab || bytes[1] !== 0x61 || bytes[2] !== 0x76 || bytes[4] !== 0x63) return undefined
  const seqHead = bytes[8]!
  const seqLen = seqHead < 0x18 ? 1 : seqHead === 0x18 ? 2 : seqHead === 0x19 ? 3 : seqHead === 0x1a ? 5 : 0
  if (seqLen === 0) return undefined
  const sigAt = 8 + seqLen
  if (!startsWith(bytes, sigAt, SIG_PAIR)) return undefined
  const tail = encodeCanonical({ time: e.time, type: e.type, author: e.author, parents: e.parents }).length - 1
  const sealEnd = bytes.length - tail
  const sealAt = sealEnd - SEAL_KEY.length - encodeCanonical(e.seal).length
  if (!startsWith(bytes, sealAt, SEAL_KEY)) return undefined
  const prevValueAt = sealAt - (e.prev === null ? 1 : CID_PAIR_BYTES)
  if (!startsWith(bytes, prevValueAt - PREV_KEY.length, PREV_KEY)) return undefined
  return { sigAt, prevValueAt, sealAt, sealEnd }
}

/**
 * The leaf of a sealed entry cut out of its canonical bytes instead of encoding the body again:
 * the bytes without the `sig` and `seal` pairs, and with `prev` null past index 0 (§24.2).
 * Undefined when the layout is not the expected one; the caller then encodes ({@link sealLeaf}).
 */
export function sealLeafOfBytes (
  bytes: Uint8Array, e: LeafFields & { seal: EntrySeal }, crypto: CryptoProvider,
  layout: SealedLayout | undefined = sealedLayout(bytes, e)
): Uint8Array | undefined {
  const at = layout
  if (at === undefined) return undefined
  const keepPrev = e.seal.index === 0 || e.prev === null
  const prevLen = at.sealAt - at.prevValueAt
  const headLen = at.prevValueAt - (at.sigAt + SIG_PAIR_BYTES)
  const out = new Uint8Array(2 + (at.sigAt - 1) + headLen + (keepPrev ? prevLen : 1) + (bytes.length - at.sealEnd))
  let o = 0
  out[o++] = LEAF_PREFIX
  out[o++] = 0xa9
  out.set(bytes.subarray(1, at.sigAt), o); o += at.sigAt - 1
  out.set(bytes.subarray(at.sigAt + SIG_PAIR_BYTES, at.prevValueAt), o); o += headLen
  if (keepPrev) { out.set(bytes.subarray(at.prevValueAt, at.sealAt), o); o += prevLen } else out[o++] = NULL
  out.set(bytes.subarray(at.sealEnd), o)
  return crypto.sha256(out)
}

/** The exact bytes a batch signature covers: the domain, then dag-cbor `{ mesh, author, root, count }`. */
export function sealSigningBytes (h: SealHeader): Uint8Array {
  const unsigned = encodeCanonical({ mesh: h.mesh, author: h.author, root: h.root, count: h.count })
  const out = new Uint8Array(SEAL_SIGNATURE_DOMAIN.length + unsigned.length)
  out.set(SEAL_SIGNATURE_DOMAIN, 0)
  out.set(unsigned, SEAL_SIGNATURE_DOMAIN.length)
  return out
}

function isHash (v: unknown): v is Uint8Array {
  return v instanceof Uint8Array && v.length === 32
}

/** Stage-1 shape of `seal` (§24.1); `fail` builds the caller's typed error. */
export function checkSealShape (seal: unknown, type: unknown, fail: (msg: string) => Error): void {
  if (seal === null || typeof seal !== 'object' || Array.isArray(seal) || seal instanceof Uint8Array) {
    throw fail('seal: expected a map')
  }
  const s = seal as Record<string, unknown>
  for (const k of Object.keys(s)) {
    if (!['root', 'count', 'index', 'path'].includes(k)) throw fail(`seal: unknown field "${k}"`)
  }
  if (!isHash(s.root)) throw fail('seal.root: expected 32 bytes')
  const count = s.count
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_SEAL_BATCH) {
    throw fail(`seal.count: expected an integer from 1 to ${MAX_SEAL_BATCH}`)
  }
  const index = s.index
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count) {
    throw fail('seal.index: expected an integer below seal.count')
  }
  if (!Array.isArray(s.path) || !s.path.every(isHash)) throw fail('seal.path: expected an array of 32-byte hashes')
  if (s.path.length !== pathLength(index, count)) {
    throw fail(`seal.path: expected ${pathLength(index, count)} hashes for index ${index} of ${count}`)
  }
  if (typeof type !== 'string' || !SEALABLE_TYPES.has(type as EntryType)) {
    throw fail(`seal: ${String(type)} entries cannot be sealed (execution records only)`)
  }
}

/** True when the entry's leaf and path fold to its seal's root; `bytes`: its canonical encoding, when at hand. */
export function sealPathHolds (
  e: LeafFields & { seal: EntrySeal }, crypto: CryptoProvider, bytes?: Uint8Array
): boolean {
  const cut = bytes === undefined ? undefined : sealLeafOfBytes(bytes, e, crypto)
  const leaf = cut ?? sealLeaf(e, e.seal.index, crypto)
  const folded = foldPath(leaf, e.seal.index, e.seal.count, e.seal.path, crypto.sha256)
  if (folded === undefined) return false
  for (let i = 0; i < 32; i++) if (folded[i] !== e.seal.root[i]) return false
  return true
}

/**
 * Batch signatures already verified, by signature, with every other input of the check, so
 * the entries of one batch after the first cost hashes only. A memo of a pure function: the
 * verdict is the same with or without it. Bounded: the oldest is forgotten first.
 */
const verifiedHeaders = new Map<string, { provider: string, header: SealHeader }>()
const MAX_VERIFIED_HEADERS = 4096

function sameHeader (a: SealHeader, b: SealHeader): boolean {
  return a.count === b.count && equalBytes(a.root, b.root) && equalBytes(a.author, b.author) &&
    equalBytes(a.mesh.bytes, b.mesh.bytes)
}

/** True when `sig` is the author's batch signature over `header`; remembered when it is. */
export function verifySealSignature (header: SealHeader, sig: Uint8Array, crypto: CryptoProvider): boolean {
  const key = toHex(sig)
  const known = verifiedHeaders.get(key)
  if (known !== undefined && known.provider === crypto.name && sameHeader(known.header, header)) return true
  if (!crypto.verify(sig, sealSigningBytes(header), header.author)) return false
  if (verifiedHeaders.size >= MAX_VERIFIED_HEADERS) {
    const oldest = verifiedHeaders.keys().next().value
    if (oldest !== undefined) verifiedHeaders.delete(oldest)
  }
  verifiedHeaders.set(key, { provider: crypto.name, header: { ...header } })
  return true
}

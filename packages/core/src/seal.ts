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
  const unsigned = encodeCanonical({
    v: e.v, mesh: e.mesh, author: e.author, seq: e.seq, prev: index === 0 ? e.prev : null,
    parents: e.parents, type: e.type, body: e.body, time: e.time
  })
  const buf = new Uint8Array(1 + unsigned.length)
  buf[0] = LEAF_PREFIX
  buf.set(unsigned, 1)
  return crypto.sha256(buf)
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

/** True when the entry's leaf and path fold to its seal's root. */
export function sealPathHolds (e: LeafFields & { seal: EntrySeal }, crypto: CryptoProvider): boolean {
  const folded = foldPath(sealLeaf(e, e.seal.index, crypto), e.seal.index, e.seal.count, e.seal.path, crypto.sha256)
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

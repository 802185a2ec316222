import { CID } from 'multiformats/cid'
import { allocSmall, compareBytes, equalBytes, utf8 } from './bytes.js'
import { nobleCrypto, type CryptoProvider } from './crypto.js'
import {
  BadSignatureError, EntryTooLargeError, InvalidArgumentError, MalformedEntryError,
  BadSealError, NonCanonicalError, UnknownTypeError
} from './errors.js'
import { validateBody, type EntryBody, type EntryType } from './bodies.js'
import { assertCanonical, CborError, decodeCanonical } from './cbor.js'
import { encodeCanonical, withEncoded } from './cbor-encode.js'
import { cidString, DAG_CBOR_CODE, entryCidOfBytes, SHA2_256_CODE } from './entry-cid.js'
import { MAX_ENTRY_BYTES, MAX_PARENTS } from './limits.js'
import {
  checkSealShape, SEALED_ENTRY_VERSION, sealPathHolds, verifySealSignature, type EntrySeal
} from './seal.js'

/** Protocol version carried in every entry's `v` field. */
export const ENTRY_VERSION = 1
/**
 * Bytes prepended to the unsigned encoding before signing, so an entry signature can never be replayed as another
 * message.
 */
export const ENTRY_SIGNATURE_DOMAIN = utf8('govmesh/entry/v1\0')
export { DAG_CBOR_CODE, SHA2_256_CODE }

/** A lineage entry as decoded (all fields, including the signature). */
export interface Entry<T extends EntryType = EntryType> {
  /** 1, or 2 for a sealed execution record (docs/PROTOCOL.md §24). */
  v: 1 | 2
  mesh: CID | null
  author: Uint8Array
  seq: number
  prev: CID | null
  parents: CID[]
  type: T
  body: EntryBody<T>
  time: number
  /** For `v = 2`, the batch signature (§24.3), the same in every entry of the batch. */
  sig: Uint8Array
  /** Version 2 only: the entry's place in its batch and its inclusion path. */
  seal?: EntrySeal
}

/** An entry together with its canonical bytes and CID. */
export interface SignedEntry<T extends EntryType = EntryType> {
  cid: CID
  /** `cid.toString()`, computed once because it is the key of every index. */
  id: string
  bytes: Uint8Array
  entry: Entry<T>
}

/** What a caller supplies to create an entry; the author comes from the key pair. */
export interface EntryInit<T extends EntryType = EntryType> {
  mesh: CID | null
  seq: number
  prev: CID | null
  parents?: CID[]
  type: T
  body: EntryBody<T>
  time: number
}

const FIELDS = ['v', 'mesh', 'author', 'seq', 'prev', 'parents', 'type', 'body', 'time', 'sig', 'seal'] as const

/** CIDv1 (dag-cbor, sha2-256) of encoded bytes. */
export function cidOfBytes (bytes: Uint8Array, crypto: CryptoProvider = nobleCrypto): CID {
  return entryCidOfBytes(bytes, crypto)
}

/**
 * The ids an entry depends on: its author's previous entry, then its parents.
 *
 * @example
 * ```ts
 * const missing = entryDepIds(signed).filter(id => !dag.has(id))
 * ```
 */
export function entryDepIds (e: Pick<SignedEntry, 'entry'>): string[] {
  const { prev, parents } = e.entry
  return prev === null ? parents.map(cidString) : [cidString(prev), ...parents.map(cidString)]
}

/** Sorts CIDs by their binary form and removes duplicates, the canonical `parents` order. */
export function sortCids (cids: Iterable<CID>): CID[] {
  const sorted = [...cids].sort((a, b) => compareBytes(a.bytes, b.bytes))
  return sorted.filter((c, i) => i === 0 || !equalBytes(c.bytes, sorted[i - 1]!.bytes))
}

/** The fields but `sig`, built in canonical key order (length, then bytes) so the encoder need not sort them. */
function unsignedMap (e: Omit<Entry, 'sig'>): Record<string, unknown> {
  return {
    v: e.v, seq: e.seq, body: e.body, mesh: e.mesh, prev: e.prev,
    time: e.time, type: e.type, author: e.author, parents: e.parents
  }
}

/** The exact bytes an entry signature covers: the domain tag, then the dag-cbor map of every field but `sig`. */
export function signingBytes (e: Omit<Entry, 'sig'>): Uint8Array {
  return withEncoded(ENTRY_SIGNATURE_DOMAIN, unsignedMap(e), (message) => message.slice())
}

/**
 * Stage 1 of a peer's check (docs/PROTOCOL.md §9) on bytes this process encoded:
 * the canonical decoder must accept them, or a peer would reject the entry.
 */
export function assertDecodable (bytes: Uint8Array): void {
  try {
    assertCanonical(bytes)
  } catch (err) {
    if (err instanceof CborError && err.kind === 'non-canonical') throw new NonCanonicalError(err.message)
    throw new MalformedEntryError(`not dag-cbor: ${(err as Error).message}`)
  }
}

/**
 * Creates, signs and encodes an entry.
 *
 * @example
 * ```ts
 * const signed = createEntry({ mesh, seq: 2, prev, parents: [genesisCid], type: 'trust.fail',
 *   body: { subject, reason: 'tampered', evidence: null }, time: Date.now() }, keys)
 * ```
 */
export function createEntry<T extends EntryType> (
  init: EntryInit<T>, keys: { secretKey: Uint8Array, publicKey: Uint8Array }, crypto: CryptoProvider = nobleCrypto
): SignedEntry<T> {
  // Canonical key order, so the object is also the map that is encoded (see unsignedMap).
  const unsigned = {
    v: ENTRY_VERSION as 1,
    seq: init.seq,
    body: init.body,
    mesh: init.mesh,
    prev: init.prev,
    time: init.time,
    type: init.type,
    author: keys.publicKey,
    parents: sortCids(init.parents ?? [])
  }
  checkShape(unsigned, false)
  // The domain tag and the unsigned map are encoded once, into scratch; only the entry's bytes are allocated.
  const { sig, bytes } = withEncoded(ENTRY_SIGNATURE_DOMAIN, unsigned, (message) => {
    const unsignedBytes = message.subarray(ENTRY_SIGNATURE_DOMAIN.length)
    if (unsignedBytes.length + SIG_PAIR_BYTES > MAX_ENTRY_BYTES) {
      throw new EntryTooLargeError(
        `entry would be ${unsignedBytes.length + SIG_PAIR_BYTES} bytes, limit ${MAX_ENTRY_BYTES}`
      )
    }
    // A node never signs what a peer would refuse: the exact bytes pass the peer's decoder first.
    assertDecodable(unsignedBytes)
    const signature = crypto.sign(message, keys.secretKey)
    const signed = withSignature(unsignedBytes, signature)
    // The entry keeps the signature as a view of its own bytes: the signer's buffer dies young.
    return signed ?? { sig: signature, bytes: undefined }
  })
  // Written out, not spread: V8's object spread cost a tenth of createEntry.
  const entry: Entry<T> = {
    v: unsigned.v, seq: unsigned.seq, sig, body: unsigned.body, mesh: unsigned.mesh, prev: unsigned.prev,
    time: unsigned.time, type: unsigned.type, author: unsigned.author, parents: unsigned.parents
  }
  const entryBytes = bytes ?? encodeEntry(entry)
  const cid = cidOfBytes(entryBytes, crypto)
  return { cid, id: cidString(cid), bytes: entryBytes, entry }
}

/** Canonical dag-cbor bytes of a signed entry. */
export function encodeEntry (entry: Entry): Uint8Array {
  if (entry.seal !== undefined) {
    // Canonical key order of a sealed entry (docs/PROTOCOL.md §24.1).
    return encodeCanonical({
      v: entry.v, seq: entry.seq, sig: entry.sig, body: entry.body, mesh: entry.mesh, prev: entry.prev,
      seal: entry.seal, time: entry.time, type: entry.type, author: entry.author, parents: entry.parents
    })
  }
  return encodeCanonical({
    v: entry.v, seq: entry.seq, sig: entry.sig, body: entry.body, mesh: entry.mesh, prev: entry.prev,
    time: entry.time, type: entry.type, author: entry.author, parents: entry.parents
  })
}

/**
 * Decodes entry bytes and checks everything that needs no other entry: size,
 * canonical encoding, field types, unknown fields, the type and its body, and
 * (unless `verify` is false) the signature.
 *
 * @example
 * ```ts
 * const signed = decodeEntry(bytes, { crypto: nodeCrypto })
 * ```
 */
export function decodeEntry (
  bytes: Uint8Array, opts: {
    crypto?: CryptoProvider
    verify?: boolean
    maxBytes?: number
    /** The CID of exactly `bytes`, when the caller hashed them already (not checked: it is hashed otherwise). */
    cid?: CID
  } = {}
): SignedEntry {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('bytes: expected Uint8Array')
  const max = opts.maxBytes ?? MAX_ENTRY_BYTES
  if (bytes.length > max) throw new EntryTooLargeError(`entry is ${bytes.length} bytes, limit ${max}`)
  const crypto = opts.crypto ?? nobleCrypto
  let decoded: unknown
  try {
    decoded = decodeCanonical(bytes)
  } catch (err) {
    if (err instanceof CborError && err.kind === 'non-canonical') throw new NonCanonicalError(err.message)
    throw new MalformedEntryError(`not dag-cbor: ${(err as Error).message}`)
  }
  if (
    decoded === null || typeof decoded !== 'object' || Array.isArray(
      decoded
    ) || decoded instanceof Uint8Array || CID.asCID(decoded) !== null
  ) {
    throw new MalformedEntryError('entry is not a map')
  }
  const entry = decoded as Entry
  checkShape(entry, true)
  if (opts.verify !== false && entry.seal !== undefined) {
    verifySealed(entry as Entry & { seal: EntrySeal }, crypto, bytes)
  } else if (
    opts.verify !== false && !crypto.verify(
      entry.sig, signingViewFromCanonical(bytes) ?? signingBytes(entry), entry.author
    )
  ) {
    throw new BadSignatureError('signature does not verify for the author key')
  }
  const cid = opts.cid ?? cidOfBytes(bytes, crypto)
  return { cid, id: cidString(cid), bytes, entry }
}

/** What the `sig` pair adds to the unsigned map: key (4 bytes), bytes head (2) and 64 bytes. */
const SIG_PAIR_BYTES = 70

const SIG_FIELD = Uint8Array.from([0x63, 0x73, 0x69, 0x67, 0x58, 0x40]) // text "sig", bytes(64)

/** Reused by {@link signingViewFromCanonical}: a fresh buffer per verification was a third of the GC work. */
let signingScratch = new Uint8Array(MAX_ENTRY_BYTES + ENTRY_SIGNATURE_DOMAIN.length)

/**
 * Signing bytes cut out of canonical entry bytes instead of encoding again: in
 * canonical key order (length, then bytes) the fields run v, seq, sig, ..., so the
 * unsigned map is the same bytes with a 9-entry header and the `sig` pair removed.
 * The result is a view of a scratch buffer, valid until the next call: verify it at once.
 * Returns undefined if the layout is not the expected one; the caller then encodes.
 */
function signingViewFromCanonical (bytes: Uint8Array): Uint8Array | undefined {
  const sigAt = sigOffset(bytes, 0xaa)
  if (sigAt === undefined) return undefined
  for (let i = 0; i < SIG_FIELD.length; i++) if (bytes[sigAt + i] !== SIG_FIELD[i]) return undefined
  const domain = ENTRY_SIGNATURE_DOMAIN.length
  const length = domain + bytes.length - SIG_PAIR_BYTES
  // Entries past the default limit are allowed by a larger `maxBytes`.
  if (signingScratch.length < length) signingScratch = new Uint8Array(length)
  const out = signingScratch
  out.set(ENTRY_SIGNATURE_DOMAIN, 0)
  out[domain] = 0xa9
  out.set(bytes.subarray(1, sigAt), domain + 1)
  out.set(bytes.subarray(sigAt + SIG_PAIR_BYTES), domain + sigAt)
  return out.subarray(0, length)
}

/**
 * The inverse of {@link signingViewFromCanonical}: the signed entry's bytes from the
 * unsigned map's canonical bytes, with the `sig` pair put in its place, instead of
 * encoding the whole entry a second time. Undefined if the layout is unexpected.
 */
function withSignature (unsigned: Uint8Array, sig: Uint8Array): { sig: Uint8Array, bytes: Uint8Array } | undefined {
  const sigAt = sigOffset(unsigned, 0xa9)
  if (sigAt === undefined || sig.length !== 64) return undefined
  const out = allocSmall(unsigned.length + SIG_PAIR_BYTES)
  out[0] = 0xaa
  out.set(unsigned.subarray(1, sigAt), 1)
  out.set(SIG_FIELD, sigAt)
  const sigStart = sigAt + SIG_FIELD.length
  out.set(sig, sigStart)
  out.set(unsigned.subarray(sigAt), sigAt + SIG_PAIR_BYTES)
  return { sig: out.subarray(sigStart, sigStart + 64), bytes: out }
}

/** Where `sig` goes in canonical key order (v, seq, sig, …): after the `v` pair and the `seq` pair. */
function sigOffset (bytes: Uint8Array, mapHead: number): number | undefined {
  if (bytes[0] !== mapHead || bytes[1] !== 0x61 || bytes[2] !== 0x76 || bytes[4] !== 0x63) return undefined
  const seqHead = bytes[8]!
  const seqLen = seqHead < 0x18 ? 1 : seqHead === 0x18 ? 2 : seqHead === 0x19 ? 3 : seqHead === 0x1a ? 5 :
    seqHead === 0x1b ? 9 : 0
  return seqLen === 0 ? undefined : 8 + seqLen
}

/** True when the entry's signature (for a sealed entry: its path and batch signature) verifies for its author. */
export function verifyEntrySignature (entry: Entry, crypto: CryptoProvider = nobleCrypto): boolean {
  if (entry.seal !== undefined) {
    try { verifySealed(entry as Entry & { seal: EntrySeal }, crypto) } catch { return false }
    return true
  }
  return crypto.verify(entry.sig, signingBytes(entry), entry.author)
}

/** Stage 1 check 17 of a sealed entry (§24.4): the path folds to the root, the batch signature verifies. */
function verifySealed (entry: Entry & { seal: EntrySeal }, crypto: CryptoProvider, bytes?: Uint8Array): void {
  if (!sealPathHolds(entry, crypto, bytes)) throw new BadSealError('seal: the leaf and path do not fold to seal.root')
  if (entry.mesh === null || !verifySealSignature(
    { mesh: entry.mesh, author: entry.author, root: entry.seal.root, count: entry.seal.count }, entry.sig, crypto
  )) {
    throw new BadSignatureError('batch signature does not verify for the author key')
  }
}

/** The checks of {@link decodeEntry} that need no signature, on fields about to be sealed (`v = 2`, no `sig`). */
export function checkUnsignedShape (e: Omit<Entry, 'sig' | 'seal'>): void {
  checkShape(e, false)
}

function isUint (n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}

function isCid (c: unknown): c is CID {
  return c !== null && typeof c === 'object' && CID.asCID(c) !== null
}

function isEntryCid (c: CID): boolean {
  return c.version === 1 && c.code === DAG_CBOR_CODE && c.multihash.code === SHA2_256_CODE &&
    c.multihash.digest.length === 32 && c.bytes.length === 36
}

function checkShape (e: Partial<Entry>, withSig: boolean): void {
  for (const key of Object.keys(e)) {
    if (!(FIELDS as readonly string[]).includes(key)) throw new MalformedEntryError(`unknown field "${key}"`)
  }
  if (e.v !== ENTRY_VERSION && e.v !== SEALED_ENTRY_VERSION) {
    throw new MalformedEntryError(`v: expected ${ENTRY_VERSION} or ${SEALED_ENTRY_VERSION}, got ${String(e.v)}`)
  }
  if (e.v === ENTRY_VERSION && e.seal !== undefined) throw new MalformedEntryError('seal: only in version 2 entries')
  if (e.v === SEALED_ENTRY_VERSION) {
    if (e.mesh === null) throw new MalformedEntryError('mesh: a sealed entry belongs to a mesh')
    if (withSig) checkSealShape(e.seal, e.type, (msg) => new MalformedEntryError(msg))
    else if (e.seal !== undefined) throw new MalformedEntryError('seal: unexpected before sealing')
  }
  if (
    e.mesh !== null && !(isCid(e.mesh) && isEntryCid(e.mesh))
  ) throw new MalformedEntryError('mesh: expected an entry CID or null')
  if (
    !(e.author instanceof Uint8Array) || e.author.length !== 32
  ) throw new MalformedEntryError('author: expected 32 bytes')
  if (!isUint(e.seq) || e.seq < 1) throw new MalformedEntryError('seq: expected an integer >= 1')
  if (
    e.prev !== null && !(isCid(e.prev) && isEntryCid(e.prev))
  ) throw new MalformedEntryError('prev: expected an entry CID or null')
  if (!Array.isArray(e.parents)) throw new MalformedEntryError('parents: expected an array')
  if (e.parents.length > MAX_PARENTS) throw new MalformedEntryError(`parents: at most ${MAX_PARENTS}`)
  for (const p of e.parents) {
    if (!isCid(p) || !isEntryCid(p)) throw new MalformedEntryError('parents: expected entry CIDs')
  }
  for (let i = 1; i < e.parents.length; i++) {
    if (compareBytes(e.parents[i - 1]!.bytes, e.parents[i]!.bytes) >= 0) {
      throw new MalformedEntryError('parents: must be sorted by CID bytes without duplicates')
    }
  }
  if (e.prev !== null && e.prev !== undefined && e.parents.some(p => p.equals(e.prev))) {
    throw new MalformedEntryError('parents: must not repeat prev')
  }
  if (typeof e.type !== 'string') throw new MalformedEntryError('type: expected a string')
  if (!isUint(e.time)) throw new MalformedEntryError('time: expected unix milliseconds')
  if (
    withSig && (!(e.sig instanceof Uint8Array) || e.sig.length !== 64)
  ) throw new MalformedEntryError('sig: expected 64 bytes')
  if (!withSig && e.sig !== undefined) throw new MalformedEntryError('sig: unexpected before signing')
  validateBody(e.type, e.body, (msg) => new UnknownTypeError(msg), (msg) => new MalformedEntryError(msg))
}

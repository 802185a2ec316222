import type { CID } from 'multiformats/cid'
import { toHex } from './bytes.js'
import { nobleCrypto, type CryptoProvider } from './crypto.js'
import type { EntryBody, EntryType } from './bodies.js'
import type { Dag } from './dag.js'
import {
  assertDecodable, cidOfBytes, checkUnsignedShape, encodeEntry, sortCids, type Entry, type SignedEntry
} from './entry.js'
import { cidString, entryCidFromDigest } from './entry-cid.js'
import { EntryTooLargeError, InvalidArgumentError } from './errors.js'
import type { KeyPair } from './identity.js'
import { MAX_ENTRY_BYTES } from './limits.js'
import { merkleTree, pathLength } from './merkle.js'
import { nextPosition } from './append.js'
import {
  MAX_SEAL_BATCH, SEALABLE_TYPES, SEALED_ENTRY_VERSION, sealedLayout, sealLeaf, sealLeafOfBytes, sealSigningBytes,
  type EntrySeal, type SealedLayout
} from './seal.js'
import { encodeCanonical } from './cbor-encode.js'

/** One execution record to seal: what the caller decides; the batch decides seq and prev. */
export interface SealedRecord<T extends EntryType = EntryType> {
  type: T
  body: EntryBody<T>
  /** Causal parents by other authors (sorted and deduplicated here). */
  parents?: CID[]
  time: number
}

/** Where the batch starts in the author's chain: the first record's mesh, seq and prev. */
export interface BatchStart {
  mesh: CID
  seq: number
  prev: CID | null
}

/** Stands for a batch-mate's CID until it exists: same length, so sizes are exact before signing. */
const PLACEHOLDER_PREV = entryCidFromDigest(new Uint8Array(32))

/**
 * Seals consecutive records of one author into one batch under one signature
 * (docs/PROTOCOL.md §24): seqs follow `start.seq`, each record's `prev` is the one before
 * it, a Merkle root covers their leaves, and each entry carries the root, its index and its
 * audit path. Every entry passes the peer's stage-1 decoder (size included) before the
 * batch is signed, so nothing a peer would refuse is ever signed.
 *
 * @example
 * ```ts
 * const [request, refusal] = sealEntries({ mesh, seq: 5, prev }, [
 *   { type: 'exec.request', body: requestBody, time: Date.now() },
 *   { type: 'exec.refuse', body: refuseBody, time: Date.now() }
 * ], nodeKeys)
 * ```
 */
export function sealEntries (
  start: BatchStart, records: readonly SealedRecord[], keys: KeyPair, crypto: CryptoProvider = nobleCrypto
): SignedEntry[] {
  if (records.length < 1 || records.length > MAX_SEAL_BATCH) {
    throw new InvalidArgumentError(`records: expected 1 to ${MAX_SEAL_BATCH}, got ${records.length}`)
  }
  const fields = records.map((r, i): Omit<Entry, 'sig' | 'seal'> => {
    if (!SEALABLE_TYPES.has(r.type)) throw new InvalidArgumentError(`records[${i}]: ${r.type} cannot be sealed`)
    const f = {
      v: SEALED_ENTRY_VERSION as 2, mesh: start.mesh, author: keys.publicKey, seq: start.seq + i,
      prev: i === 0 ? start.prev : PLACEHOLDER_PREV, parents: sortCids(r.parents ?? []), type: r.type,
      body: r.body, time: r.time
    }
    checkUnsignedShape(f)
    return f
  })
  // One encoding per entry, with placeholders of the final sizes (sig, seal, a batch-mate's prev):
  // the peer's canonical decoder and size limit see the exact layout before anything is signed, the
  // leaves are cut out of it, and the final bytes are it with the placeholders overwritten.
  const count = fields.length
  const drafts = fields.map((f, index) => {
    const seal: EntrySeal = {
      root: ZERO_HASH, count, index, path: Array.from({ length: pathLength(index, count) }, () => ZERO_HASH)
    }
    const bytes = encodeEntry({ ...f, sig: ZERO_SIG, seal })
    if (bytes.length > MAX_ENTRY_BYTES) {
      throw new EntryTooLargeError(`records[${index}]: entry would be ${bytes.length} bytes, limit ${MAX_ENTRY_BYTES}`)
    }
    assertDecodable(bytes)
    const layout = sealedLayout(bytes, { ...f, seal })
    const leaf = (layout === undefined ? undefined : sealLeafOfBytes(bytes, { ...f, seal }, crypto, layout)) ??
      sealLeaf(f, index, crypto)
    return { bytes, layout, leaf }
  })
  const leaves = drafts.map(d => d.leaf)
  const { root, paths } = merkleTree(leaves, crypto.sha256)
  const sig = crypto.sign(sealSigningBytes({ mesh: start.mesh, author: keys.publicKey, root, count }), keys.secretKey)
  const out: SignedEntry[] = []
  for (let i = 0; i < count; i++) {
    const seal: EntrySeal = { root, count, index: i, path: paths[i]! }
    const prev = i === 0 ? start.prev : out[i - 1]!.cid
    const entry: Entry = { ...fields[i]!, prev, sig, seal }
    const bytes = patched(drafts[i]!, sig, seal, i === 0 ? undefined : prev ?? undefined) ?? encodeEntry(entry)
    const cid = cidOfBytes(bytes, crypto)
    out.push({ cid, id: cidString(cid), bytes, entry })
  }
  return out
}

const ZERO_HASH = new Uint8Array(32)
const ZERO_SIG = new Uint8Array(64)
const SIG_VALUE_OFFSET = 6 // "sig" key (4 bytes), bytes(64) head (2)
const SEAL_VALUE_OFFSET = 5 // "seal" key
const CID_VALUE_OFFSET = 5 // tag 42 (2 bytes), bytes(37) head (2), the 0x00 prefix

/** The draft's bytes with the signature, the seal and a batch-mate's prev written over the placeholders. */
function patched (
  draft: { bytes: Uint8Array, layout: SealedLayout | undefined }, sig: Uint8Array, seal: EntrySeal,
  prev: CID | undefined
): Uint8Array | undefined {
  const at = draft.layout
  const sealBytes = encodeCanonical(seal)
  if (at === undefined || at.sealEnd - at.sealAt !== SEAL_VALUE_OFFSET + sealBytes.length) return undefined
  const out = Uint8Array.from(draft.bytes)
  out.set(sig, at.sigAt + SIG_VALUE_OFFSET)
  out.set(sealBytes, at.sealAt + SEAL_VALUE_OFFSET)
  if (prev !== undefined) out.set(prev.bytes, at.prevValueAt + CID_VALUE_OFFSET)
  return out
}

/**
 * Builds (but does not add) the author's next batch on top of what `dag` knows: the chain
 * continues from the author's latest entry; the first record cites the newest governance and
 * the heads of other authors, as {@link nextEntry} does for one entry, and the others (which
 * follow it through `prev`) cite only their own parents by other authors.
 *
 * @example
 * ```ts
 * const batch = nextSealedEntries(dag, nodeKeys, [{ type: 'exec.request', body, time: Date.now() }])
 * for (const e of batch) dag.add(e)
 * ```
 */
export function nextSealedEntries (
  dag: Dag, keys: KeyPair, records: readonly SealedRecord[], crypto: CryptoProvider = nobleCrypto
): SignedEntry[] {
  const author = toHex(keys.publicKey)
  const start = nextPosition(dag, author, records[0]?.parents)
  const positioned = records.map((r, i) => ({
    ...r, parents: i === 0 ? start.parents : (r.parents ?? []).filter(p => dag.meta(p.toString())?.author !== author)
  }))
  return sealEntries({ mesh: start.mesh, seq: start.seq, prev: start.prev }, positioned, keys, crypto)
}

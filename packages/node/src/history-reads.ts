import {
  cidOfBytes, cidString, decodeEntry, parseEntryCid, toHex, type CID, type Dag, type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { HistoryDamagedError } from './errors.js'
import type { HistoryIndex } from './history-index.js'
import { walkAncestry, walkClosure } from './history-walk.js'
import { writeProofCarOfIds } from './proof-car.js'
import { decodeMetaLinks, type MetaLinks } from './meta-record.js'

/**
 * Accepted entries by id, decoded without checking their signatures again (they were checked
 * before they were stored) but hashed: bytes that do not hash to their CID, or an entry that
 * is not there although the store names it, are damage and are reported, never served.
 *
 * @example
 * ```ts
 * const [entry] = await readEntries(node.historyIndex, [cid], 'the log')
 * ```
 */
export async function readEntries (
  index: HistoryIndex, ids: readonly string[], namedBy: string
): Promise<SignedEntry[]> {
  const stored = await index.bytesOf(ids)
  return ids.map((id, i) => decodeStored(id, stored[i], namedBy))
}

/** An entry's stored bytes decoded (signature not checked again) and hashed: damage is thrown, never served. */
export function decodeStored (id: string, bytes: Uint8Array | undefined, namedBy: string): SignedEntry {
  if (bytes === undefined) throw missing(id, namedBy)
  let signed: SignedEntry
  try {
    signed = decodeEntry(bytes, { crypto: nodeCrypto, verify: false })
  } catch (err) {
    throw new HistoryDamagedError(`stored entry ${id} does not decode: ${(err as Error).message}`)
  }
  if (signed.id !== id) throw notItsCid(id)
  return signed
}

const missing = (id: string, namedBy: string): HistoryDamagedError =>
  new HistoryDamagedError(`entry ${id} is missing from the store (${namedBy} names it)`)
const notItsCid = (id: string): HistoryDamagedError =>
  new HistoryDamagedError(`stored entry ${id} is damaged: its bytes do not hash to its CID`)

/**
 * {@link Dag.ancestry} with each entry decoded: what the ancestry query serves. The walk follows
 * the decoded entries' own prev and parents (their bytes are hashed, so the links are the signed
 * ones), reading chains in ranges.
 *
 * @example
 * ```ts
 * const entries = await ancestryEntries(node.dag, node.historyIndex, cid, { limit: 100 })
 * ```
 */
export async function ancestryEntries (
  dag: Dag, index: HistoryIndex, root: string, opts: { depth?: number, limit?: number } = {}
): Promise<SignedEntry[]> {
  const walked = await walkAncestry<SignedEntry>(index, {
    fromChain: (e) => decodeStored(e.id, e.bytes, 'an ancestry walk'),
    read: async (ids) => await readEntries(index, ids, 'an ancestry walk'),
    locate: async (ids) => await index.metasOf(ids),
    step: (s) => ({
      prev: s.entry.prev?.toString() ?? null,
      parents: s.entry.parents.map(p => p.toString()),
      author: toHex(s.entry.author),
      seq: s.entry.seq
    })
  }, root, opts)
  return [...walked.values()]
}

/** What a proof export holds of an entry while it walks (an {@link EntryMeta} has it all), and its bytes once read. */
interface ProofStep extends MetaLinks {
  id: string
  author: string
  bytes?: Uint8Array
  /** The bytes came from a chain pack, which vouches that they hash to `id`. */
  packed?: true
}

/**
 * The blocks of a lineage proof (docs/PROTOCOL.md §23): the root's whole ancestry closure and
 * the genesis, oldest first (acceptance order), each entry's bytes checked against its CID.
 * The walk reads every chain it meets whole, as one range of chain records (metadata and bytes);
 * what no chain read holds is read by id. (The closure is the same set as {@link Dag.ancestry}'s,
 * walked depth first: the order is the sort's.)
 *
 * @example
 * ```ts
 * const blocks = await proofBlocks(node.dag, node.historyIndex, resultCid)
 * ```
 */
export async function proofBlocks (
  dag: Dag, index: HistoryIndex, root: string
): Promise<Array<{ cid: CID, bytes: Uint8Array }>> {
  return (await proofSteps(dag, index, root)).map(({ id, bytes }) => ({ cid: parseEntryCid(id), bytes }))
}

/**
 * The CAR of a lineage proof: {@link proofBlocks} written as {@link writeProofCar} would, without a
 * CID object per block (a proof holds the chains it meets whole, thousands of entries).
 *
 * @example
 * ```ts
 * const car = await proofCar(node.dag, node.historyIndex, resultCid)
 * ```
 */
export async function proofCar (dag: Dag, index: HistoryIndex, root: string): Promise<Uint8Array> {
  return writeProofCarOfIds(parseEntryCid(root), await proofSteps(dag, index, root))
}

/** The proof's entries, oldest first, each with bytes that hash to its id (damage is thrown, never served). */
async function proofSteps (
  dag: Dag, index: HistoryIndex, root: string
): Promise<Array<{ id: string, bytes: Uint8Array }>> {
  const walked = await walkClosure<ProofStep>(index, {
    fromChain: (e) => {
      if (e.meta === undefined) return undefined
      // Built field by field: a spread of the decoded links costs more than the decoding (profiled).
      const l = decodeLinks(e.id, e.meta, links)
      return {
        id: e.id, author: e.author, seq: l.seq, index: l.index, prev: l.prev, parents: l.parents, bytes: e.bytes,
        packed: e.packed
      }
    },
    read: async (ids) => {
      const metas = await index.metasOf(ids)
      return ids.map((id, i): ProofStep => ({ ...metas[i] ?? failMissing(id, 'a proof export') }))
    },
    locate: async (ids) => await index.metasOf(ids),
    step: (s) => s
  }, root)
  if (!walked.has(dag.meshIdString)) walked.set(dag.meshIdString, { ...dag.meta(dag.meshIdString)! })
  const steps = [...walked.values()].sort((a, b) => a.index - b.index)
  const unread = steps.filter(s => s.bytes === undefined)
  const stored = await index.bytesOf(unread.map(s => s.id))
  unread.forEach((s, i) => { s.bytes = stored[i] })
  for (const { id, bytes, packed } of steps) {
    if (bytes === undefined) failMissing(id, 'a proof export')
    // A pack's digest, checked when it was read, covers its entries' bytes, checked against their CIDs.
    // Otherwise the CID the bytes hash to, compared as text: cheaper than parsing the stored id into a
    // CID (and cidString is cheaper than the CID's own toString, which caches every string it makes).
    if (packed !== true && cidString(cidOfBytes(bytes, nodeCrypto)) !== id) throw notItsCid(id)
  }
  return steps as Array<ProofStep & { bytes: Uint8Array }>
}

/** Where the proof walk decodes each record's links before it copies them into its step (no object per record). */
const links: MetaLinks = { seq: 0, index: 0, prev: null, parents: [] }

function decodeLinks (id: string, record: Uint8Array, into: MetaLinks): MetaLinks {
  try {
    return decodeMetaLinks(id, record, into)
  } catch (err) {
    throw new HistoryDamagedError(`stored entry ${id} is damaged: ${(err as Error).message}`)
  }
}

function failMissing (id: string, namedBy: string): never {
  throw missing(id, namedBy)
}

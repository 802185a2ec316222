import {
  cidOfBytes, decodeEntry, type CID, type Dag, type EntryMeta, type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { HistoryDamagedError } from './errors.js'
import type { HistoryIndex } from './history-index.js'

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
  return ids.map((id, i) => {
    const bytes = stored[i]
    if (bytes === undefined) throw missing(id, namedBy)
    let signed: SignedEntry
    try {
      signed = decodeEntry(bytes, { crypto: nodeCrypto, verify: false })
    } catch (err) {
      throw new HistoryDamagedError(`stored entry ${id} does not decode: ${(err as Error).message}`)
    }
    if (signed.id !== id) throw notItsCid(id)
    return signed
  })
}

const missing = (id: string, namedBy: string): HistoryDamagedError =>
  new HistoryDamagedError(`entry ${id} is missing from the store (${namedBy} names it)`)
const notItsCid = (id: string): HistoryDamagedError =>
  new HistoryDamagedError(`stored entry ${id} is damaged: its bytes do not hash to its CID`)

/** What an ancestry walk needs of an entry. */
interface Step { prev: string | null, parents: readonly string[] }

/** How a walk reads the entries it visits (all of one walk level at once). */
interface WalkReader<T> {
  read: (ids: string[]) => Promise<T[]>
  step: (t: T) => Step
}

/**
 * Breadth-first ancestry from `root` over prev and parents, in the order of {@link Dag.ancestry}
 * (discovery order, the root first, up to `depth` edges and `limit` entries), reading each entry
 * once: a walk level at a time. (Reading an author's chain ahead from the author/seq index was
 * tried: with point reads it only adds one read per entry.)
 */
async function walk<T> (
  reader: WalkReader<T>, root: string, opts: { depth?: number, limit?: number }
): Promise<Map<string, T>> {
  const maxDepth = opts.depth ?? Infinity
  const limit = opts.limit ?? Infinity
  const got = new Map<string, T>()
  const out: string[] = [root]
  const seen = new Set(out)
  const fetch = async (ids: string[]): Promise<void> => {
    const read = await reader.read(ids)
    ids.forEach((id, i) => got.set(id, read[i]!))
  }
  await fetch(out)
  let frontier = out.slice()
  for (let d = 0; d < maxDepth && frontier.length > 0 && out.length < limit; d++) {
    const next: string[] = []
    visit: for (const cur of frontier) {
      const s = reader.step(got.get(cur)!)
      for (const p of s.prev === null ? s.parents : [s.prev, ...s.parents]) {
        if (seen.has(p)) continue
        seen.add(p)
        out.push(p)
        next.push(p)
        if (out.length >= limit) break visit
      }
    }
    await fetch(next)
    frontier = next
  }
  return got
}

/**
 * {@link Dag.ancestry} with each entry decoded: what the ancestry query serves.
 *
 * @example
 * ```ts
 * const entries = await ancestryEntries(node.dag, node.historyIndex, cid, { limit: 100 })
 * ```
 */
export async function ancestryEntries (
  dag: Dag, index: HistoryIndex, root: string, opts: { depth?: number, limit?: number } = {}
): Promise<SignedEntry[]> {
  const walked = await walk({
    read: async (ids) => await readEntries(index, ids, 'an ancestry walk'),
    step: (s) => ({ prev: s.entry.prev?.toString() ?? null, parents: s.entry.parents.map(p => p.toString()) })
  }, root, opts)
  return [...walked.values()]
}

/**
 * The blocks of a lineage proof (docs/PROTOCOL.md §23): the root's whole ancestry closure and
 * the genesis, oldest first (acceptance order), each entry's bytes checked against its CID.
 * The walk reads metadata records, then every entry's bytes in one batch.
 *
 * @example
 * ```ts
 * const blocks = await proofBlocks(node.dag, node.historyIndex, resultCid)
 * ```
 */
export async function proofBlocks (
  dag: Dag, index: HistoryIndex, root: string
): Promise<Array<{ cid: CID, bytes: Uint8Array }>> {
  const walked = await walk<EntryMeta>({
    read: async (ids) => {
      const metas = await index.metasOf(ids)
      return ids.map((id, i) => metas[i] ?? failMissing(id, 'a proof export'))
    },
    step: (m) => m
  }, root, {})
  if (!walked.has(dag.meshIdString)) walked.set(dag.meshIdString, dag.meta(dag.meshIdString)!)
  const metas = [...walked.values()].sort((a, b) => a.index - b.index)
  const ids = metas.map(m => m.id)
  const stored = await index.bytesOf(ids)
  return metas.map((m, i) => {
    const bytes = stored[i] ?? failMissing(m.id, 'a proof export')
    // The CID the bytes hash to, compared as text: cheaper than parsing the stored id into a CID.
    const cid = cidOfBytes(bytes, nodeCrypto)
    if (cid.toString() !== m.id) throw notItsCid(m.id)
    return { cid, bytes }
  })
}

function failMissing (id: string, namedBy: string): never {
  throw missing(id, namedBy)
}

import type { Dag, EntryMeta } from '@govmesh/core'
import type { LevelHistory } from './level-history.js'
import { encodeMetaRecord } from './meta-record.js'
import type { ChainEntry, Store } from './store.js'

/**
 * The orderings of a DAG's history that queries walk (log, search, sync serving, children),
 * read lazily so that no query holds the whole history in memory: from the level store's
 * indexes in the node, from a DAG held in memory in tests and tools.
 */
export interface HistoryIndex {
  /** Accepted ids, newest first. */
  newestFirst: () => AsyncIterable<string>
  /** One author's chain (the first entry accepted at each seq), newest first, with the entries' bytes. */
  authorChain: (author: string) => AsyncIterable<ChainEntry>
  /**
   * The entries of `author`'s chain from seq `to` down to `from`, with bytes and metadata, in one
   * read: a walk down a chain reads it so instead of entry by entry. Entries it does not hold (not
   * written yet) are left out; whoever needs them reads them by id.
   */
  chain: (author: string, from: number, to: number) => Promise<ChainEntry[]>
  /** Accepted ids in acceptance order from position `from` (a DAG entry's `index`). */
  orderFrom: (from: number) => AsyncIterable<string>
  /** Entries that name `id` as prev or parent. */
  children: (id: string) => Promise<string[]>
  /** Stored bytes of accepted entries (undefined for an unknown id), read together. */
  bytesOf: (ids: readonly string[]) => Promise<Array<Uint8Array | undefined>>
  /** Metadata records of accepted entries (undefined for an unknown id), read together. */
  metasOf: (ids: readonly string[]) => Promise<Array<EntryMeta | undefined>>
}

/**
 * The node's index: the store's order, author/seq and children indexes (`store` is read at each
 * query, so the index can be handed out before the store opens); entries and metadata records
 * through `history`, which also holds the entries accepted and not written yet.
 *
 * @example
 * ```ts
 * for await (const id of storeIndex(() => store, history).newestFirst()) console.log(id)
 * ```
 */
export function storeIndex (store: () => Store, history: LevelHistory): HistoryIndex {
  return {
    newestFirst: () => store().orderFrom(0, { reverse: true }),
    authorChain: (author) => store().chainNewestFirst(author),
    chain: async (author, from, to) => store().chainRange(author, from, to),
    orderFrom: (from) => store().orderFrom(from),
    children: async (id) => store().children(id),
    bytesOf: async (ids) => history.bytesMany(ids),
    metasOf: async (ids) => history.metaMany(ids)
  }
}

/**
 * The index of a DAG whose history is in memory ({@link Dag.ids} works).
 *
 * @example
 * ```ts
 * const entries = await logEntries(dag, memoryIndex(dag), { limit: 10 })
 * ```
 */
export function memoryIndex (dag: Dag): HistoryIndex {
  async function * from (ids: readonly string[], reverse: boolean, start = 0): AsyncGenerator<string> {
    if (reverse) for (let i = ids.length - 1; i >= 0; i--) yield ids[i]!
    else for (let i = start; i < ids.length; i++) yield ids[i]!
  }
  const chainOf = (author: string, from: number, to: number): ChainEntry[] => {
    const out: ChainEntry[] = []
    for (let seq = to; seq >= from; seq--) {
      const m = dag.entryAt(author, seq)
      if (m !== undefined) out.push({ id: m.id, author, meta: encodeMetaRecord(m), bytes: dag.getBytes(m.id)! })
    }
    return out
  }
  return {
    newestFirst: () => from(dag.ids(), true),
    authorChain: async function * (author) { yield * chainOf(author, 1, dag.frontier()[author] ?? 0) },
    chain: async (author, from, to) => chainOf(author, from, to),
    orderFrom: (start) => from(dag.ids(), false, start),
    children: async (id) => dag.ids().filter(other => {
      const m = dag.meta(other)!
      return m.prev === id || m.parents.includes(id)
    }),
    bytesOf: async (ids) => ids.map(id => dag.getBytes(id)),
    metasOf: async (ids) => ids.map(id => dag.meta(id))
  }
}

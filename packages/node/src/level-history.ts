import { BoundedMap, type DagHistory, type EntryMeta } from '@govmesh/core'
import { encodeMetaRecord } from './meta-record.js'
import type { Store, StoredEntry } from './store.js'

/** Metadata records held in memory for recent lookups (parents, prev, heads); about 0.5 KB each. */
export const META_CACHE_ENTRIES = 10_000

interface Unwritten { meta: EntryMeta, bytes: Uint8Array, inChain: boolean }

/**
 * The node's {@link DagHistory}: accepted entries live in the level store and are read back with
 * synchronous point reads through a bounded cache, so memory does not grow with history. An
 * entry the DAG accepted but the store has not written yet is held here until its batch is
 * written ({@link take} hands it to the batch, {@link written} lets it go).
 *
 * @example
 * ```ts
 * const history = new LevelHistory(() => store)
 * const dag = createDag({ genesis, history })
 * ```
 */
export class LevelHistory implements DagHistory {
  private readonly unwritten = new Map<string, Unwritten>()
  private readonly unwrittenAt = new Map<string, string>()
  private readonly cache: BoundedMap<string, EntryMeta>

  /** `store` is read lazily: the DAG exists (with its genesis) before the store is open. */
  constructor (private readonly store: () => Store | undefined, cacheEntries = META_CACHE_ENTRIES) {
    this.cache = new BoundedMap(cacheEntries)
  }

  meta (id: string): EntryMeta | undefined {
    const fresh = this.unwritten.get(id)
    if (fresh !== undefined) return fresh.meta
    const cached = this.cache.get(id)
    if (cached !== undefined) return cached
    const meta = this.store()?.storedMeta(id)
    if (meta === undefined) return undefined
    this.cache.set(id, meta)
    return meta
  }

  /**
   * An entry's bytes, from its chain record (by author and seq). Its metadata is read first, through
   * the cache, which names them: a caller that reads an entry's metadata and then its bytes (sync
   * serving, the DAG) costs the store one read of each.
   */
  bytes (id: string): Uint8Array | undefined {
    const fresh = this.unwritten.get(id)
    if (fresh !== undefined) return fresh.bytes
    const m = this.meta(id)
    return this.store()?.entrySync(id, m === undefined ? undefined : { author: m.author, seq: m.seq })
  }

  /**
   * Bytes of many accepted entries, located by their metadata (read through the cache, as
   * {@link bytes} does: the log asks for the newest entries again and again).
   */
  bytesMany (ids: readonly string[]): Array<Uint8Array | undefined> {
    return this.many(ids, u => u.bytes, (rest) => this.store()?.entriesMany(rest, rest.map(id => {
      const m = this.meta(id)
      return m === undefined ? undefined : { author: m.author, seq: m.seq }
    })))
  }

  /**
   * Metadata records of many accepted entries (one batch of store reads for those neither cached
   * nor unwritten); what is read goes into the cache, as a single {@link meta} read would.
   */
  metaMany (ids: readonly string[]): Array<EntryMeta | undefined> {
    return this.many(ids, u => u.meta, (rest) => {
      const read = this.store()?.metasMany(rest)
      read?.forEach(m => { if (m !== undefined) this.cache.set(m.id, m) })
      return read
    }, this.cache)
  }

  private many<T> (
    ids: readonly string[], fresh: (u: Unwritten) => T,
    stored: (ids: string[]) => Array<T | undefined> | undefined, cache?: BoundedMap<string, T>
  ): Array<T | undefined> {
    const out = new Array<T | undefined>(ids.length)
    const rest: string[] = []
    const at: number[] = []
    ids.forEach((id, i) => {
      const u = this.unwritten.get(id)
      const known = u !== undefined ? fresh(u) : cache?.get(id)
      if (known !== undefined) out[i] = known
      else { rest.push(id); at.push(i) }
    })
    const read = rest.length === 0 ? [] : stored(rest) ?? []
    at.forEach((i, k) => { out[i] = read[k] })
    return out
  }

  at (author: string, seq: number): string | undefined {
    return this.unwrittenAt.get(`${author}!${seq}`) ?? this.store()?.atSync(author, seq)
  }

  add (meta: EntryMeta, bytes: Uint8Array): void {
    const slot = `${meta.author}!${meta.seq}`
    // The first entry accepted at a seq is the author's chain; a later one is an equivocation.
    const inChain = !this.unwrittenAt.has(slot) && !this.storedAt(meta.author, meta.seq)
    this.unwritten.set(meta.id, { meta, bytes, inChain })
    if (inChain) this.unwrittenAt.set(slot, meta.id)
  }

  /**
   * Whether the store indexes an entry of `author` at `seq`. Above the highest seq the store counts
   * for the author it cannot: the point read is left out for a new entry (the common case).
   */
  private storedAt (author: string, seq: number): boolean {
    const store = this.store()
    if (store === undefined || seq > store.highestSeq(author)) return false
    return store.atSync(author, seq) !== undefined
  }

  /** The stored form of accepted entries (with their metadata records), for the batch that writes them. */
  take (ids: string[]): StoredEntry[] {
    return ids.map(id => {
      const u = this.unwritten.get(id)
      if (u === undefined) throw new Error(`entry ${id} is not waiting to be written`)
      const m = u.meta
      const deps = m.prev === null ? m.parents : [m.prev, ...m.parents]
      return { id, bytes: u.bytes, author: m.author, seq: m.seq, deps, meta: encodeMetaRecord(m), inChain: u.inChain }
    })
  }

  /** The batch holding these entries was written (or failed for good): read them from the store from now on. */
  written (ids: string[]): void {
    for (const id of ids) {
      const u = this.unwritten.get(id)
      if (u === undefined) continue
      this.unwritten.delete(id)
      const slot = `${u.meta.author}!${u.meta.seq}`
      if (this.unwrittenAt.get(slot) === id) this.unwrittenAt.delete(slot)
      this.cache.set(id, u.meta)
    }
  }

  /** Entries accepted and not yet written. */
  get unwrittenCount (): number { return this.unwritten.size }
}

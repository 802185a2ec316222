import { Level } from 'level'
import { GovmeshError } from '@govmesh/core'

/** Bumped whenever the on-disk layout changes; a mismatch refuses to open. */
export const SCHEMA_VERSION = 1

/** The data directory was written by another schema version or for another mesh. */
export class StoreMismatchError extends GovmeshError {
  constructor (message: string) {
    super('store.mismatch', message)
    this.name = 'StoreMismatchError'
  }
}

// Key layout (one prefix per index, all in one level database):
//   m!schema          schema version            m!mesh   mesh id (genesis CID)
//   e!<cid>           entry bytes               o!<n>    cid, in acceptance (causal) order
//   a!<author>!<seq>  cid (author/seq index)    c!<parent>!<child>  '' (children index)
//   p!<cid>           bytes of a pending entry  y!state  Yjs policy state
const pad = (n: number): string => n.toString(16).padStart(12, '0')
const utf8 = new TextEncoder()

export interface StoredEntry {
  id: string
  bytes: Uint8Array
  author: string
  seq: number
  deps: string[]
}

/**
 * The node's level database. Entries are written only after the core accepted
 * them, so on start they are replayed without re-verifying signatures. Each
 * accepted batch is one atomic level batch: after `kill -9` an entry is either
 * fully indexed or absent.
 *
 * @example
 * ```ts
 * const store = await openStore({ path: join(dataDir, 'db'), meshId })
 * for await (const bytes of store.replay()) dag.add(bytes, { verified: true })
 * ```
 */
export class Store {
  private readonly db: Level<string, Uint8Array>
  private nextOrder = 0

  private constructor (db: Level<string, Uint8Array>) {
    this.db = db
  }

  static async open (init: { path: string, meshId: string }): Promise<Store> {
    const db = new Level<string, Uint8Array>(init.path, { valueEncoding: 'view' })
    await db.open()
    const store = new Store(db)
    const schema = await db.get('m!schema')
    const mesh = await db.get('m!mesh')
    const text = (v: Uint8Array | undefined): string | undefined => v === undefined ? undefined : new TextDecoder().decode(v)
    if (schema === undefined) {
      await db.batch([
        { type: 'put', key: 'm!schema', value: new TextEncoder().encode(String(SCHEMA_VERSION)) },
        { type: 'put', key: 'm!mesh', value: new TextEncoder().encode(init.meshId) }
      ], { sync: true })
    } else {
      if (text(schema) !== String(SCHEMA_VERSION)) {
        await db.close()
        throw new StoreMismatchError(`store schema version ${text(schema)} is not ${SCHEMA_VERSION}; migrate or use a new data dir`)
      }
      if (text(mesh) !== init.meshId) {
        await db.close()
        throw new StoreMismatchError(`store belongs to mesh ${text(mesh)}, not ${init.meshId}`)
      }
    }
    for await (const key of db.keys({ gte: 'o!', lt: 'o"', reverse: true, limit: 1 })) {
      store.nextOrder = parseInt(key.slice(2), 16) + 1
    }
    return store
  }

  /**
   * Opens an existing store read-only in spirit (for offline checks): returns it with
   * the mesh id it belongs to. Fails if the directory holds no govmesh store or if a
   * running node holds its lock.
   */
  static async openExisting (path: string): Promise<{ store: Store, meshId: string }> {
    const db = new Level<string, Uint8Array>(path, { valueEncoding: 'view', createIfMissing: false })
    try {
      await db.open()
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message
      throw new StoreMismatchError(`cannot open ${path}: ${cause}${/lock/i.test(cause) ? ' (stop the node first)' : ''}`)
    }
    const schema = await db.get('m!schema')
    const mesh = await db.get('m!mesh')
    if (schema === undefined || mesh === undefined) {
      await db.close()
      throw new StoreMismatchError(`${path} is not a govmesh store`)
    }
    if (new TextDecoder().decode(schema) !== String(SCHEMA_VERSION)) {
      await db.close()
      throw new StoreMismatchError(`store schema version ${new TextDecoder().decode(schema)} is not ${SCHEMA_VERSION}`)
    }
    return { store: new Store(db), meshId: new TextDecoder().decode(mesh) }
  }

  /** Author/seq index entries: [author hex, seq, cid]. */
  async *authorIndex (): AsyncGenerator<[string, number, string]> {
    const dec = new TextDecoder()
    for await (const [key, value] of this.db.iterator({ gte: 'a!', lt: 'a"' })) {
      const [, author, seq] = key.split('!')
      yield [author!, parseInt(seq!, 16), dec.decode(value)]
    }
  }

  /** Persists accepted entries (in causal order) and clears them from pending, atomically. */
  async putAccepted (entries: StoredEntry[], opts: { sync?: boolean } = {}): Promise<void> {
    if (entries.length === 0) return
    const ops: Array<{ type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }> = []
    const empty = new Uint8Array()
    for (const e of entries) {
      ops.push({ type: 'put', key: `e!${e.id}`, value: e.bytes })
      const id = utf8.encode(e.id)
      ops.push({ type: 'put', key: `o!${pad(this.nextOrder++)}`, value: id })
      ops.push({ type: 'put', key: `a!${e.author}!${pad(e.seq)}`, value: id })
      for (const d of e.deps) ops.push({ type: 'put', key: `c!${d}!${e.id}`, value: empty })
      ops.push({ type: 'del', key: `p!${e.id}` })
    }
    await this.db.batch(ops, { sync: opts.sync === true })
  }

  async putPending (id: string, bytes: Uint8Array): Promise<void> {
    await this.db.put(`p!${id}`, bytes)
  }

  async deletePending (ids: string[]): Promise<void> {
    if (ids.length > 0) await this.db.batch(ids.map(id => ({ type: 'del' as const, key: `p!${id}` })))
  }

  async getEntry (id: string): Promise<Uint8Array | undefined> {
    return this.db.get(`e!${id}`)
  }

  /** Accepted entry bytes in acceptance order (a causal order). */
  async *replay (): AsyncGenerator<Uint8Array> {
    const dec = new TextDecoder()
    for await (const id of this.db.values({ gte: 'o!', lt: 'o"' })) {
      const bytes = await this.db.get(`e!${dec.decode(id)}`)
      if (bytes !== undefined) yield bytes
    }
  }

  async *pending (): AsyncGenerator<Uint8Array> {
    for await (const bytes of this.db.values({ gte: 'p!', lt: 'p"' })) yield bytes
  }

  /** Children of an entry, from the children index. */
  async children (id: string): Promise<string[]> {
    const out: string[] = []
    const prefix = `c!${id}!`
    for await (const key of this.db.keys({ gte: prefix, lt: prefix + '\xff' })) out.push(key.slice(prefix.length))
    return out
  }

  async putPolicyState (state: Uint8Array): Promise<void> {
    await this.db.put('y!state', state)
  }

  async getPolicyState (): Promise<Uint8Array | undefined> {
    return this.db.get('y!state')
  }

  async close (): Promise<void> {
    await this.db.close()
  }
}

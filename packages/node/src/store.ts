import { copyFileSync, existsSync, linkSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import {
  BoundedMap, cidOfBytes, cidString, type DagCheckpoint, type EntryMeta, type EquivocationEvidence
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { NodeError } from './errors.js'
import { GroupCommit, type GroupCommitStats } from './group-commit.js'
import {
  CHECKPOINT_KEY, decodeCheckpointState, decodeEvidence, EVIDENCE_PREFIX, KEPT_PREFIX, toDagCheckpoint,
  type CheckpointState
} from './checkpoint-record.js'
import { decodeChainEntry, decodeChainRecord, encodeChainRecord, type ChainRecord } from './chain-record.js'
import { decodeChainPack, encodeChainPack, PACK_RECORDS, packOf } from './chain-pack.js'
import { decodeMetaRecord, metaRecordLocation } from './meta-record.js'
import { authorKey, chainKey, entryKey, metaKey, packKey, pad } from './store-keys.js'
import { moveToChainRecords } from './store-migration.js'
import { writeLevelBatch, type LevelOp } from './level-batch.js'
import { checkLevelTables, describeLogDamage, describeTableDamage, scanLevelLogs, type LogScan } from './leveldb-log.js'
import {
  decodeIntegrityRecord, describeLoss, encodeIntegrityRecord, INTEGRITY_KEY, integrityReport, scanAuthorIndex,
  type IntegrityRecord, type IntegrityReport, type SeqRun
} from './store-integrity.js'

/**
 * Bumped whenever the on-disk layout changes. 2 added the integrity record; a store of
 * schema 1 is migrated once at open (the record is computed from what it holds then).
 * 3 added per-entry metadata records and the DAG checkpoint; a store of schema 1 or 2 is
 * migrated once by the node's first start (one replay writes them, then the schema).
 * 4 keeps each entry of an author's chain in a chain record by author and seq (`h!`, with its
 * CID and metadata record) instead of by CID, so that a walk down a chain is one range read; a
 * store of schema 3 is migrated at open, one of schema 1 or 2 after its replay.
 * 5 packs the chain records of each complete block of 16 seqs into one chain pack (`g!`,
 * chain-pack.ts) in the batch that completes it; a store of schema 4 only has its schema
 * raised at open (its records stay as they are, blocks completed from then on are packed).
 */
export const SCHEMA_VERSION = 5
/**
 * The first schema that keeps entries in chain records (`h!`; since schema 5 also chain packs, `g!`);
 * older ones are migrated to them.
 */
export const CHAIN_SCHEMA = 4
const SCHEMAS = new Set(['1', '2', '3', '4', String(SCHEMA_VERSION)])
/** Chain packs held decoded (about 9 KB each): sync serving reads many chains' recent blocks in turn. */
const PACK_CACHE = 128

/** The data directory was written by another schema version or for another mesh. */
export class StoreMismatchError extends NodeError {
  constructor (message: string) {
    super('store.mismatch', message)
    this.name = 'StoreMismatchError'
  }
}

/** Another process (a running node) holds the store's lock. */
export class StoreLockedError extends NodeError {
  constructor (readonly path: string) {
    super('store.locked', `${path} is in use by another process (a running node?): stop it first`)
    this.name = 'StoreLockedError'
  }
}

/**
 * The store lost data or cannot be read: acknowledged entries are missing, the write-ahead
 * log is damaged, or LevelDB refuses to open it. Never repaired in place.
 */
export class StoreDamagedError extends NodeError {
  constructor (readonly path: string, readonly summary: string, readonly report?: IntegrityReport) {
    super('store.damaged', `store ${path} is damaged: ${summary}`)
    this.name = 'StoreDamagedError'
  }
}

// Key layout (one prefix per index, all in one level database):
//   m!schema          schema version            m!mesh   mesh id (genesis CID)
//   h!<author>!<seq>  chain record: cid, metadata record, entry bytes (chain-record.ts)
//   g!<author>!<block> chain pack: the 16 chain records of a complete block of seqs (chain-pack.ts)
//   e!<cid>           bytes of an entry off its author's chain (an equivocation's later entry)
//   o!<n>             cid, in acceptance (causal) order
//   a!<author>!<seq>  cid (author/seq index)    c!<parent>!<child>  '' (children index)
//   p!<cid>           bytes of a pending entry  y!state  Yjs policy state
//   m!integrity       the integrity record (see store-integrity.ts), in every entry batch
//   x!<cid>           metadata record (meta-record.ts)   k!...  the DAG checkpoint (checkpoint-record.ts)
/** Keys per read while the open checks walk an index. */
const KEY_BATCH = 1000
/** Chain records the author log reads at a time (its first batch is its limit, 50 by default). */
const CHAIN_BATCH = 64
const utf8 = new TextEncoder()
const text = (v: Uint8Array | undefined): string | undefined =>
  v === undefined ? undefined : new TextDecoder().decode(v)

/** An entry of an author's chain as its chain record holds it. */
export interface ChainEntry extends ChainRecord {
  author: string
  /**
   * Read from a chain pack, whose digest was checked by this read and whose entries' bytes were
   * checked against their CIDs when it was written: `bytes` hash to `id`.
   */
  packed?: true | undefined
}

/** Where an accepted entry's chain record would be. */
export interface EntryLocation {
  author: string
  seq: number
}

export interface StoredEntry {
  id: string
  bytes: Uint8Array
  author: string
  seq: number
  deps: string[]
  /** Its metadata record (schema 3), written beside the bytes (and, schema 4, in the chain record). */
  meta: Uint8Array
  /**
   * False for the later entry of an equivocation: the author/seq index keeps the first entry
   * accepted at a seq (the author's chain), so this one gets no `a!` key.
   */
  inChain?: boolean
}

/** One level write; {@link Store.putAccepted} takes extra ones to commit in the same batch. */
export type StoreOp = LevelOp

/** What {@link Store.readCheckpoint} found. */
export interface StoredCheckpoint {
  state: CheckpointState
  kept: string[]
  evidence: EquivocationEvidence[]
  /** Author → highest seq, from the integrity record. */
  frontier: ReadonlyMap<string, number>
}

type Db = Level<string, Uint8Array>

/** One caller's write in the group commit; `accepted` are the entries the integrity record must count. */
interface StoreWrite {
  ops: StoreOp[]
  accepted: StoredEntry[]
  sync: boolean
}

const notAStore = (path: string): StoreMismatchError => new StoreMismatchError(`${path} is not a govmesh store`)
const unknownSchema = (schema: string | undefined): StoreMismatchError =>
  new StoreMismatchError(`store schema version ${schema} is not ${SCHEMA_VERSION}; migrate or use a new data dir`)

/** Opens level, turning its failures into one-line typed errors. */
/**
 * LevelDB memory that does not grow with the store: LevelDB maps each table file it keeps open
 * (the table cache, `maxOpenFiles` less 10 files), and every page read through a map counts in the
 * process's RSS. The smallest table cache LevelDB allows (74 files, 64 tables) and the smallest
 * tables (LevelDB raises `maxFileSize` to at least 1 MB: 512 KB here made 1 MB tables all along)
 * bound that to about 64 × 1 MB; the block cache and write buffer are LevelDB's defaults, spelled out.
 * (80 files, 70 tables, mapped some 20 MB more after a full sync served: docs/STORAGE.md.)
 */
export const LEVEL_OPTIONS = {
  maxOpenFiles: 74, maxFileSize: 2 ** 20, cacheSize: 8 * 2 ** 20, writeBufferSize: 2 * 2 ** 20
} as const

async function openLevel (path: string, createIfMissing: boolean): Promise<Db> {
  const db = new Level<string, Uint8Array>(path, { valueEncoding: 'view', createIfMissing, ...LEVEL_OPTIONS })
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message
    if (/lock/i.test(cause)) throw new StoreLockedError(path)
    if (!createIfMissing && /does not exist/i.test(cause)) throw notAStore(path)
    throw new StoreDamagedError(path, `LevelDB cannot open it: ${cause}`)
  }
  return db
}

/** Level's own error for unreadable data, as one line. */
const readError = (what: string, err: unknown): string =>
  `${what} unreadable: ${(err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message}`

/** Damage in the store's write-ahead logs or tables, refused before LevelDB's open drops or rewrites it. */
function refuseDamagedFiles (path: string): LogScan | undefined {
  if (!existsSync(path)) return undefined
  const logs = scanLevelLogs(path)
  const d = logs.damage[0]
  if (d !== undefined) throw new StoreDamagedError(path, describeLogDamage(d))
  const tables = checkLevelTables(path)
  const t = tables?.[0]
  if (t !== undefined) throw new StoreDamagedError(path, describeTableDamage(t))
  return logs
}

/** A throwaway copy of a store directory (tables hard-linked: LevelDB never rewrites one). */
function copyStoreDir (path: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'govmesh-store-check-'))
  for (const f of readdirSync(path)) {
    if (f === 'LOCK') continue
    const from = join(path, f)
    const to = join(copy, f)
    if (/\.(ldb|sst)$/.test(f)) {
      try {
        linkSync(from, to)
        continue
      } catch { /* another file system: copy it */ }
    }
    copyFileSync(from, to)
  }
  return copy
}

/** A store opened from a copy, for offline checks: the original directory is never opened. */
export interface InspectedStore {
  store: Store
  /** Undefined when the mesh record itself is unreadable. */
  meshId: string | undefined
  /** Schema of the original; 1 means no integrity record existed (it was computed from the contents). */
  schema: number
  report: IntegrityReport
  /** The integrity record read (or, for schema 1, computed) from the copy. */
  record: IntegrityRecord
  logs: LogScan
  /** Closes the copy and deletes it. */
  close: () => Promise<void>
}

/**
 * The node's level database. Entries are written only after the core accepted
 * them, so on start they are replayed without re-verifying signatures. Each
 * accepted batch is one atomic level batch, with the integrity record: after
 * `kill -9` an entry is either fully indexed and counted, or absent. Opening
 * checks the record against what is there and refuses a damaged store.
 *
 * @example
 * ```ts
 * const store = await Store.open({ path: join(dataDir, 'db'), meshId })
 * for await (const bytes of store.replay()) dag.add(bytes, { verified: true })
 * ```
 */
export class Store {
  private readonly db: Db
  private nextOrder = 0
  private readonly packs = new BoundedMap<string, Uint8Array[]>(PACK_CACHE)
  /**
   * Ids held under `p!` (read at open, then kept with every write): an accepted entry deletes its
   * `p!` key only if it has one, instead of writing a tombstone for every entry (LevelDB writes a
   * deletion of an absent key like any other, and compacts it later). Bounded by the DAG's pending area.
   */
  private readonly pendingIds = new Set<string>()
  private record: IntegrityRecord = { entries: 0, authors: new Map() }
  /** Set when this open found an older schema (the node logs it and finishes the migration). */
  migratedFrom: number | undefined
  /** Every write (accepted entries, pending, deletions) goes through it, in call order. */
  private readonly commits = new GroupCommit<StoreWrite>(
    async (writes, sync) => { await this.writeBatch(writes, sync) }
  )

  /** The store has no checkpoint yet (new, or older than schema 3): the node replays it once. */
  needsCheckpoint = false

  /**
   * The store keeps its entries by CID (older than schema 4): {@link migrateToChains} moves them to
   * chain records (at open for schema 3, after the node's replay for schema 1 and 2).
   */
  needsChainRecords = false
  /** Entries moved to chain records by this open (the node logs it), if it migrated them. */
  chainsMigrated: number | undefined

  /**
   * The comparison of the integrity record with the indexes: resolved when the open did it first,
   * else rejects with {@link StoreDamagedError} when it finds loss (see {@link Store.open}).
   */
  indexesChecked: Promise<void> = Promise.resolve()

  private constructor (db: Db, readonly path: string) {
    this.db = db
  }

  /** How many writes shared a batch so far. */
  get commitStats (): Readonly<GroupCommitStats> { return this.commits.stats }

  /** Entries the integrity record counts. */
  get integrityEntries (): number { return this.record.entries }

  /**
   * The highest seq of `author` the integrity record counts (0 for none). It is raised when a batch
   * is handed to LevelDB (and put back if that batch fails), so no author/seq key above it exists.
   */
  highestSeq (author: string): number { return this.record.authors.get(author) ?? 0 }

  /**
   * Opens (or creates) the store and checks it: its log and table files before LevelDB opens it,
   * then the integrity record against the author/seq and order indexes (every key, so that loss from
   * the middle of a chain is found). With `checkIndexes: 'concurrently'` the open resolves once the
   * record is read and that comparison goes on while the caller reads its checkpoint:
   * {@link indexesChecked} settles with it, and nothing may be served or written before it resolved.
   */
  static async open (init: { path: string, meshId: string, checkIndexes?: 'first' | 'concurrently' }): Promise<Store> {
    refuseDamagedFiles(init.path)
    const db = await openLevel(init.path, true)
    const store = new Store(db, init.path)
    try {
      await store.openChecked(init.meshId, init.checkIndexes ?? 'first')
    } catch (err) {
      await db.close()
      throw err
    }
    return store
  }

  private async openChecked (meshId: string, checkIndexes: 'first' | 'concurrently'): Promise<void> {
    const db = this.db
    let schema: string | undefined
    let mesh: string | undefined
    try {
      schema = text(await db.get('m!schema'))
      mesh = text(await db.get('m!mesh'))
    } catch (err) {
      throw new StoreDamagedError(this.path, readError('the schema record', err))
    }
    if (schema === undefined) {
      this.needsCheckpoint = true
      await db.batch([
        { type: 'put', key: 'm!schema', value: utf8.encode(String(SCHEMA_VERSION)) },
        { type: 'put', key: 'm!mesh', value: utf8.encode(meshId) },
        { type: 'put', key: INTEGRITY_KEY, value: encodeIntegrityRecord(this.record) }
      ], { sync: true })
      return
    }
    if (!SCHEMAS.has(schema)) throw unknownSchema(schema)
    if (mesh !== meshId) throw new StoreMismatchError(`store belongs to mesh ${mesh}, not ${meshId}`)
    if (schema !== String(SCHEMA_VERSION)) {
      this.migratedFrom = Number(schema)
      this.needsCheckpoint = Number(schema) < 3
      this.needsChainRecords = Number(schema) < CHAIN_SCHEMA
    }
    if (schema === '1') {
      await this.migrateFromSchema1()
    } else if (checkIndexes === 'concurrently' && schema !== '3') {
      const readErrors: string[] = []
      await this.readRecord(readErrors, false)
      this.indexesChecked = this.compareIndexes(readErrors, undefined, false).then(report => {
        if (!report.ok) throw new StoreDamagedError(this.path, describeLoss(report), report)
      })
      // Whoever awaits it gets the damage; until then it must not count as unhandled.
      this.indexesChecked.catch(() => {})
    } else {
      const report = await this.check()
      if (!report.ok) throw new StoreDamagedError(this.path, describeLoss(report), report)
    }
    for await (const key of db.keys({ gte: 'o!', lt: 'o"', reverse: true, limit: 1 })) {
      this.nextOrder = parseInt(key.slice(2), 16) + 1
    }
    for await (const key of db.keys({ gte: 'p!', lt: 'p"' })) this.pendingIds.add(key.slice(2))
    // Checked whole first (above): nothing is written to a damaged store.
    if (schema === '3') await this.migrateToChains()
    // Schema 4 holds only chain records, which schema 5 reads as they are.
    if (schema === String(CHAIN_SCHEMA)) {
      await db.batch([{ type: 'put', key: 'm!schema', value: utf8.encode(String(SCHEMA_VERSION)) }], { sync: true })
    }
  }

  /**
   * Moves every chain entry from `e!<cid>` to its chain record and writes the current schema
   * (store-migration.ts): once, for a store older than schema 4 that has its metadata records.
   */
  async migrateToChains (): Promise<void> {
    this.chainsMigrated = await moveToChainRecords(this.db, SCHEMA_VERSION, (problem) =>
      new StoreDamagedError(this.path, problem))
    this.needsChainRecords = false
  }

  /**
   * Schema 1 had no integrity record: compute it once from what the store holds and write it
   * with the new schema version in one batch. Loss before this point cannot be detected.
   */
  private async migrateFromSchema1 (): Promise<void> {
    this.record = await this.computeRecord()
    const ops = [
      { type: 'put' as const, key: 'm!schema', value: utf8.encode('2') },
      { type: 'put' as const, key: INTEGRITY_KEY, value: encodeIntegrityRecord(this.record) }
    ]
    await this.db.batch(ops, { sync: true })
  }

  /** The record a store without one would have: its highest seq per author and its order index length. */
  private async computeRecord (): Promise<IntegrityRecord> {
    const authors = new Map<string, number>()
    for await (const runs of this.authorRuns()) {
      for (const [author, , to] of runs) authors.set(author, Math.max(to, authors.get(author) ?? 0))
    }
    return { entries: await this.orderCount(), authors }
  }

  private async orderCount (): Promise<number> {
    let n = 0
    for await (const keys of this.keyBatches({ gte: 'o!', lt: 'o"' })) n += keys.length
    return n
  }

  /**
   * Keys of a range, a thousand per read: the open checks read every index key, and one promise
   * per batch instead of per key keeps a restart on a long history short.
   */
  private async * keyBatches (range: { gte: string, lt: string }): AsyncGenerator<string[]> {
    const it = this.db.keys(range)
    try {
      for (let keys = await it.nextv(KEY_BATCH); keys.length > 0; keys = await it.nextv(KEY_BATCH)) yield keys
    } finally {
      await it.close()
    }
  }

  /**
   * The author/seq index as runs of held seqs, in key order, in batches. Keys are unique and
   * sorted, so a batch of one author whose first and last seqs span exactly its length holds every
   * seq between them: one run, without looking at the keys in between. That is nearly every
   * batch, which keeps the check of a long history to the cost of reading its keys.
   */
  private async * authorRuns (): AsyncGenerator<SeqRun[]> {
    // a!<64 hex digits>!<12 hex digits>
    const author = (key: string): string => key.slice(2, key.length - 13)
    const seq = (key: string): number => parseInt(key.slice(key.length - 12), 16)
    for await (const keys of this.keyBatches({ gte: 'a!', lt: 'a"' })) {
      const first = keys[0]!
      const last = keys[keys.length - 1]!
      const a = author(first)
      if (author(last) === a && seq(last) - seq(first) === keys.length - 1) {
        yield [[a, seq(first), seq(last)]]
      } else {
        yield keys.map(key => { const s = seq(key); return [author(key), s, s] })
      }
    }
  }

  private async loadRecord (): Promise<IntegrityRecord> {
    const bytes = await this.db.get(INTEGRITY_KEY)
    if (bytes === undefined) throw new Error(`${INTEGRITY_KEY} is absent`)
    return decodeIntegrityRecord(bytes)
  }

  /**
   * Checks the integrity record against the author/seq and order indexes, reading keys only.
   * `logs` and the entries legible in their damaged bytes name loss beyond a stale record.
   */
  async check (logs?: LogScan, opts: { computeRecord?: boolean } = {}): Promise<IntegrityReport> {
    const readErrors: string[] = []
    await this.readRecord(readErrors, opts.computeRecord === true)
    return await this.compareIndexes(readErrors, logs)
  }

  private async readRecord (readErrors: string[], compute: boolean): Promise<void> {
    try {
      this.record = compute ? await this.computeRecord() : await this.loadRecord()
    } catch (err) {
      readErrors.push(readError('the integrity record', err))
    }
  }

  /**
   * The record against the author/seq index and (with `countOrder`) the order index's length.
   * The start leaves the count out: it reads as many keys again, and what it alone would find
   * cannot go unnoticed otherwise: LevelDB loses whole batches (a log record: the author/seq index
   * shows the gap, the log check the damage) or whole tables (the table check), and the later
   * entry of an equivocation is written with its evidence record, which the checkpoint counts.
   */
  private async compareIndexes (readErrors: string[], logs?: LogScan, countOrder = true): Promise<IntegrityReport> {
    // Both indexes at once: LevelDB reads them on two threads while this one compares.
    const [scanned, counted] = await Promise.allSettled([
      scanAuthorIndex(this.authorRuns(), this.record), countOrder ? this.orderCount() : Promise.resolve(undefined)
    ])
    let index
    if (scanned.status === 'fulfilled') {
      index = scanned.value
    } else {
      readErrors.push(readError('the author/seq index', scanned.reason))
      index = await scanAuthorIndex(this.authorKeysByGet(), this.record)
    }
    let present
    if (counted.status === 'fulfilled') present = counted.value
    else readErrors.push(readError('the order index', counted.reason))
    const logLost: Array<{ author: string, seq: number }> = []
    for (const d of logs?.damage ?? []) {
      for (const e of d.entries) if (!await this.readable(`a!${e.author}!${pad(e.seq)}`)) logLost.push(e)
    }
    return integrityReport({ record: this.record, index, present, readErrors, logs, logLost })
  }

  /** The author/seq keys the record vouches for that a point read still finds (when iteration fails). */
  private async * authorKeysByGet (): AsyncGenerator<SeqRun[]> {
    for (const [author, last] of [...this.record.authors].sort(([a], [b]) => a < b ? -1 : 1)) {
      for (let seq = 1; seq <= last; seq++) {
        if (await this.readable(`a!${author}!${pad(seq)}`)) yield [[author, seq, seq]]
      }
    }
  }

  private async readable (key: string): Promise<boolean> {
    try {
      return await this.db.get(key) !== undefined
    } catch {
      return false
    }
  }

  /**
   * Opens a copy of an existing store for offline checks, so that LevelDB's recovery at
   * open (which drops a damaged log and rewrites the directory) never touches the original.
   * Fails if the directory holds no govmesh store.
   */
  static async inspect (path: string): Promise<InspectedStore> {
    if (!existsSync(join(path, 'CURRENT'))) throw notAStore(path)
    const logs = scanLevelLogs(path)
    const copy = copyStoreDir(path)
    const remove = (): void => { rmSync(copy, { recursive: true, force: true }) }
    let db: Db
    try {
      db = await openLevel(copy, false)
    } catch (err) {
      remove()
      if (err instanceof StoreDamagedError) throw new StoreDamagedError(path, err.summary)
      throw err
    }
    const store = new Store(db, path)
    const close = async (): Promise<void> => { await db.close(); remove() }
    try {
      const problems = (checkLevelTables(path) ?? [])
        .map(describeTableDamage)
      let schema: string | undefined = String(SCHEMA_VERSION)
      let meshId: string | undefined
      try {
        schema = text(await db.get('m!schema'))
        meshId = text(await db.get('m!mesh'))
        if (schema === undefined || meshId === undefined) throw notAStore(path)
      } catch (err) {
        if (err instanceof NodeError) throw err
        // Unreadable, not absent: check what can still be read against the record.
        problems.push(readError('the schema record', err))
      }
      if (schema === undefined || !SCHEMAS.has(schema)) throw unknownSchema(schema)
      store.needsCheckpoint = Number(schema) < 3
      store.needsChainRecords = Number(schema) < CHAIN_SCHEMA
      const report = await store.check(logs, { computeRecord: schema === '1' })
      report.problems.unshift(...problems)
      report.ok &&= problems.length === 0
      return { store, meshId, schema: Number(schema), report, record: store.record, logs, close }
    } catch (err) {
      await close()
      throw err
    }
  }

  /** Author/seq index entries: [author hex, seq, cid]. */
  async *authorIndex (): AsyncGenerator<[string, number, string]> {
    const dec = new TextDecoder()
    for await (const [key, value] of this.db.iterator({ gte: 'a!', lt: 'a"' })) {
      const [, author, seq] = key.split('!')
      yield [author!, parseInt(seq!, 16), dec.decode(value)]
    }
  }

  /**
   * Every chain record (schema 4), in key order: [author hex, seq, record], then every packed one
   * (schema 5), pack by pack. For `dag verify`; a damaged pack throws {@link StoreDamagedError}.
   */
  async *chainRecords (): AsyncGenerator<[string, number, ChainRecord]> {
    for await (const [key, value] of this.db.iterator({ gte: 'h!', lt: 'h"' })) {
      const [, author, seq] = key.split('!')
      yield [author!, parseInt(seq!, 16), this.decodeChain(key, value)]
    }
    for await (const [key, value] of this.db.iterator({ gte: 'g!', lt: 'g"' })) {
      const [, author, block] = key.split('!')
      const first = parseInt(block!, 16) * PACK_RECORDS + 1
      for (const [i, record] of this.decodePack(key, value).entries()) {
        yield [author!, first + i, this.decodeChain(key, record)]
      }
    }
  }

  /**
   * Persists accepted entries (in causal order) and clears them from pending, atomically, with
   * `extraOps` (the DAG checkpoint) in the same batch: acknowledged means entries and checkpoint are
   * durable together. Writes are applied in call order; concurrent ones share one level batch (and
   * one fsync when any asks for `sync`), and each resolves once its batch is written.
   */
  async putAccepted (entries: StoredEntry[], opts: { sync?: boolean, extraOps?: StoreOp[] } = {}): Promise<void> {
    if (entries.length === 0) return
    const ops: StoreOp[] = []
    const empty = new Uint8Array()
    for (const e of entries) {
      const id = utf8.encode(e.id)
      // A chain entry's bytes go in its chain record, next to its author's other entries.
      if (e.inChain !== false) {
        ops.push({ type: 'put', key: chainKey(e.author, e.seq), value: encodeChainRecord(e.id, e.bytes, e.meta) })
        ops.push({ type: 'put', key: authorKey(e.author, e.seq), value: id })
      } else {
        ops.push({ type: 'put', key: entryKey(e.id), value: e.bytes })
      }
      ops.push({ type: 'put', key: metaKey(e.id), value: e.meta })
      ops.push({ type: 'put', key: `o!${pad(this.nextOrder++)}`, value: id })
      for (const d of e.deps) ops.push({ type: 'put', key: `c!${d}!${e.id}`, value: empty })
      if (this.pendingIds.delete(e.id)) ops.push({ type: 'del', key: `p!${e.id}` })
    }
    if (opts.extraOps !== undefined) ops.push(...opts.extraOps)
    await this.commits.submit({ ops, accepted: entries, sync: opts.sync === true })
  }

  /** One level batch for a group of writes, with the integrity record counting their entries. */
  private async writeBatch (writes: StoreWrite[], sync: boolean): Promise<void> {
    const ops = writes.length === 1 ? writes[0]!.ops : writes.flatMap(w => w.ops)
    const accepted = writes.length === 1 ? writes[0]!.accepted : writes.flatMap(w => w.accepted)
    const before = { entries: this.record.entries, authors: new Map(this.record.authors) }
    if (accepted.length > 0) ops.push(...this.packOps(accepted, ops), ...this.recordOps(accepted))
    try {
      await writeLevelBatch(this.db, ops, sync)
    } catch (err) {
      // Not written: the record must not vouch for these entries in a later batch.
      this.record = before
      throw err
    }
  }

  /**
   * The chain packs of the blocks these entries complete (each entry at the last seq of a block),
   * with the deletion of the records they replace: one pack put, sixteen record deletions, in the
   * batch that writes the block's last record. The block's other records are this batch's or the
   * store's (every earlier batch is written: the group commit writes one batch at a time). A block
   * with a record that is missing, unreadable or does not hash to its CID is left as it is: damage
   * is for `dag verify` to report, and it never fails the write of the entries.
   */
  private packOps (accepted: StoredEntry[], ops: readonly StoreOp[]): StoreOp[] {
    const out: StoreOp[] = []
    let inBatch: Map<string, Uint8Array> | undefined
    for (const e of accepted) {
      if (e.inChain === false || e.seq % PACK_RECORDS !== 0) continue
      inBatch ??= new Map(ops.flatMap(o => o.type === 'put' && o.key.startsWith('h!') ? [[o.key, o.value]] : []))
      const first = e.seq - PACK_RECORDS + 1
      const records: Uint8Array[] = []
      for (let seq = first; seq <= e.seq; seq++) {
        const key = chainKey(e.author, seq)
        const record = inBatch.get(key) ?? this.quietRead(key)
        if (record === undefined || !recordHoldsItsEntry(key, record)) break
        records.push(record)
      }
      if (records.length !== PACK_RECORDS) continue
      const pack = encodeChainPack(records, nodeCrypto.sha256)
      out.push({ type: 'put', key: packKey(e.author, packOf(e.seq)), value: pack })
      for (let seq = first; seq <= e.seq; seq++) out.push({ type: 'del', key: chainKey(e.author, seq) })
    }
    return out
  }

  /** A point read for packing: unreadable is left to `dag verify`, not thrown into a write. */
  private quietRead (key: string): Uint8Array | undefined {
    try {
      return this.db.getSync(key)
    } catch {
      return undefined
    }
  }

  /** The integrity record after a batch of entries; it goes in the same level batch. */
  private recordOps (entries: StoredEntry[]): Array<{ type: 'put', key: string, value: Uint8Array }> {
    for (const e of entries) {
      if (e.seq > (this.record.authors.get(e.author) ?? 0)) this.record.authors.set(e.author, e.seq)
    }
    this.record.entries += entries.length
    return [{ type: 'put', key: INTEGRITY_KEY, value: encodeIntegrityRecord(this.record) }]
  }

  /**
   * Writes metadata records and, with `done`, the checkpoint and the schema: how the node's one
   * replay of an older store finishes its migration to schema 3 (see {@link needsCheckpoint}); a
   * new store is at the current schema then, an older one moves to chain records next
   * ({@link migrateToChains}).
   */
  async putMigration (metas: Array<{ id: string, meta: Uint8Array }>, done?: StoreOp[]): Promise<void> {
    const ops: StoreOp[] = metas.map(m => ({ type: 'put', key: metaKey(m.id), value: m.meta }))
    if (done !== undefined) {
      const schema = this.needsChainRecords ? 3 : SCHEMA_VERSION
      ops.push(...done, { type: 'put', key: 'm!schema', value: utf8.encode(String(schema)) })
    }
    await this.commits.submit({ ops, accepted: [], sync: done !== undefined })
    if (done !== undefined) this.needsCheckpoint = false
  }

  /** A synchronous point read (the DAG validates synchronously); unreadable data is damage. */
  private readSync (key: string): Uint8Array | undefined {
    try {
      return this.db.getSync(key)
    } catch (err) {
      throw new StoreDamagedError(this.path, readError(key, err))
    }
  }

  /**
   * Values of many keys, read one after the other without leaving this thread: a `getMany`
   * costs LevelDB the same work plus two thread hops, which on a loaded machine cost more than
   * the reads (measured: README, history). Unreadable data is damage.
   */
  private readMany (keys: readonly string[]): Array<Uint8Array | undefined> {
    return keys.map(key => this.readSync(key))
  }

  /**
   * Entry bytes of many ids, read one after the other (undefined where none is stored); `at` gives
   * the location of those whose metadata the caller holds (saving the read of their records).
   */
  entriesMany (ids: readonly string[], at?: ReadonlyArray<EntryLocation | undefined>): Array<Uint8Array | undefined> {
    return ids.map((id, i) => this.entrySync(id, at?.[i]))
  }

  /** Metadata records of many ids in one read, decoded (undefined where none is stored). */
  metasMany (ids: readonly string[]): Array<EntryMeta | undefined> {
    const records = this.readMany(ids.map(id => `x!${id}`))
    return records.map((bytes, i) => bytes === undefined ? undefined : this.decodeMeta(ids[i]!, bytes))
  }

  metaSync (id: string): Uint8Array | undefined { return this.readSync(metaKey(id)) }
  atSync (author: string, seq: number): string | undefined { return text(this.readSync(authorKey(author, seq))) }

  /**
   * An accepted entry's bytes: from its chain record (found by `at`, or by its metadata record),
   * else from `e!` (an entry off its author's chain, or a store not yet migrated to schema 4).
   */
  entrySync (id: string, at?: EntryLocation): Uint8Array | undefined {
    let loc = at
    if (loc === undefined) {
      const meta = this.metaSync(id)
      if (meta !== undefined) loc = this.locate(id, meta)
    }
    if (loc !== undefined) {
      const key = chainKey(loc.author, loc.seq)
      // A complete block is looked for in its pack first: a read of a key that is not there costs
      // LevelDB more than one that is (it looks in every level).
      const record = this.packRecords(loc.author, packOf(loc.seq))?.[(loc.seq - 1) % PACK_RECORDS] ??
        this.readSync(key)
      if (record !== undefined) {
        const r = this.decodeChain(key, record)
        if (r.id === id) return r.bytes
      }
    }
    return this.readSync(entryKey(id))
  }

  /**
   * The chain records of `author` from seq `to` down to seq `from`, newest first (seqs the store
   * holds no record for are left out). They are adjacent, so each point read after the first finds
   * its table and block already open: some 2.5 µs a record here, the same as an iterator's share,
   * without an iterator's hop to LevelDB's thread and back (measured: 3.0 vs 2.4 ms for 1,266
   * records, 0.19 vs 0.26 ms for 100; on a loaded machine a hop costs more), and without the
   * iterator's garbage, which piled up between collections (+25 MB RSS after 100 proof exports).
   */
  chainRange (author: string, from: number, to: number): ChainEntry[] {
    const out: ChainEntry[] = []
    for (let seq = to; seq >= from;) {
      const block = packOf(seq)
      const low = Math.max(from, block * PACK_RECORDS + 1)
      const pack = this.packRecords(author, block)
      for (; seq >= low; seq--) {
        const record = pack === undefined ? this.readSync(chainKey(author, seq)) : pack[seq - 1 - block * PACK_RECORDS]
        if (record === undefined) continue
        out.push(this.chainEntry(author, record, pack === undefined ? undefined : true))
      }
    }
    return out
  }

  /**
   * The records of `author`'s pack of `block`, or undefined when it has none: a block the integrity
   * record does not count whole cannot have one (no read), and one completed before schema 5 has
   * its records unpacked. Packs never change once written, so the last ones read are kept decoded.
   */
  private packRecords (author: string, block: number): Uint8Array[] | undefined {
    if (this.highestSeq(author) < (block + 1) * PACK_RECORDS) return undefined
    const key = packKey(author, block)
    const known = this.packs.get(key)
    if (known !== undefined) return known
    const value = this.readSync(key)
    if (value === undefined) return undefined
    // A plain view of level's Buffer: the records' views are then plain views too, cheaper to make.
    const records = this.decodePack(key, new Uint8Array(value.buffer, value.byteOffset, value.byteLength))
    this.packs.set(key, records)
    return records
  }

  private decodePack (key: string, value: Uint8Array): Uint8Array[] {
    try {
      return decodeChainPack(key, value, nodeCrypto.sha256)
    } catch (err) {
      throw new StoreDamagedError(this.path, (err as Error).message)
    }
  }

  /** One author's chain records, newest first: from the highest seq the integrity record counts, down. */
  async *chainNewestFirst (author: string): AsyncGenerator<ChainEntry> {
    for (let seq = this.highestSeq(author); seq >= 1; seq -= CHAIN_BATCH) {
      yield * this.chainRange(author, Math.max(1, seq - CHAIN_BATCH + 1), seq)
    }
  }

  private chainEntry (author: string, record: Uint8Array, packed: true | undefined): ChainEntry {
    const entry = decodeChainEntry(record, author, packed)
    if (typeof entry === 'string') throw new StoreDamagedError(this.path, `a chain record of ${author} is ${entry}`)
    return entry
  }

  private decodeChain (key: string, record: Uint8Array): ChainRecord {
    try {
      return decodeChainRecord(key, record)
    } catch (err) {
      throw new StoreDamagedError(this.path, (err as Error).message)
    }
  }

  private locate (id: string, meta: Uint8Array): EntryLocation {
    try {
      return metaRecordLocation(id, meta)
    } catch (err) {
      throw new StoreDamagedError(this.path, (err as Error).message)
    }
  }

  /** The stored checkpoint, or undefined when the store has none yet (see {@link needsCheckpoint}). */
  async readCheckpoint (): Promise<StoredCheckpoint | undefined> {
    if (this.needsCheckpoint) return undefined
    try {
      const stateBytes = await this.db.get(CHECKPOINT_KEY)
      if (stateBytes === undefined) {
        throw new StoreDamagedError(this.path, `the checkpoint (${CHECKPOINT_KEY}) is missing`)
      }
      const state = decodeCheckpointState(stateBytes)
      const kept: string[] = []
      for await (const v of this.db.values({ gte: KEPT_PREFIX, lt: KEPT_PREFIX + '\xff' })) kept.push(text(v)!)
      const evidence: EquivocationEvidence[] = []
      for await (const v of this.db.values({ gte: EVIDENCE_PREFIX, lt: EVIDENCE_PREFIX + '\xff' })) {
        evidence.push(decodeEvidence(v))
      }
      return { state, kept, evidence, frontier: new Map(this.record.authors) }
    } catch (err) {
      if (err instanceof StoreDamagedError) throw err
      throw new StoreDamagedError(this.path, readError('the checkpoint', err))
    }
  }

  /** The stored checkpoint in the core's terms (what `dag verify` compares), or undefined before schema 3. */
  async dagCheckpoint (): Promise<DagCheckpoint | undefined> {
    const c = await this.readCheckpoint()
    return c === undefined ? undefined : toDagCheckpoint(c.state, c.frontier, c.kept, c.evidence)
  }

  /** An entry's stored metadata record, decoded. */
  storedMeta (id: string): EntryMeta | undefined {
    const bytes = this.metaSync(id)
    return bytes === undefined ? undefined : this.decodeMeta(id, bytes)
  }

  private decodeMeta (id: string, bytes: Uint8Array): EntryMeta {
    try {
      return decodeMetaRecord(id, bytes)
    } catch (err) {
      throw new StoreDamagedError(this.path, (err as Error).message)
    }
  }

  /** Ids in acceptance order from position `from` (the order index key is the position). */
  async *orderFrom (from: number, opts: { reverse?: boolean, below?: number } = {}): AsyncGenerator<string> {
    const range = opts.reverse === true
      ? { gte: 'o!', lt: `o!${pad(opts.below ?? Number.MAX_SAFE_INTEGER)}`, reverse: true }
      : { gte: `o!${pad(from)}`, lt: opts.below !== undefined ? `o!${pad(opts.below)}` : 'o"' }
    for await (const v of this.db.values(range)) yield text(v)!
  }

  /** Keeps an entry that waits for parents (in order with the other writes). */
  async putPending (id: string, bytes: Uint8Array): Promise<void> {
    this.pendingIds.add(id)
    await this.commits.submit({ ops: [{ type: 'put', key: `p!${id}`, value: bytes }], accepted: [], sync: false })
  }

  async deletePending (ids: string[]): Promise<void> {
    if (ids.length === 0) return
    for (const id of ids) this.pendingIds.delete(id)
    const ops = ids.map(id => ({ type: 'del' as const, key: `p!${id}` }))
    await this.commits.submit({ ops, accepted: [], sync: false })
  }

  async getEntry (id: string): Promise<Uint8Array | undefined> {
    return this.entrySync(id)
  }

  /** Accepted entry bytes in acceptance order (a causal order). */
  async *replay (): AsyncGenerator<Uint8Array> {
    const dec = new TextDecoder()
    for await (const id of this.db.values({ gte: 'o!', lt: 'o"' })) {
      const cid = dec.decode(id)
      const bytes = this.entrySync(cid)
      // The order index names it, so it was written in the same batch: its loss is damage.
      if (bytes === undefined) {
        throw new StoreDamagedError(this.path, `entry ${cid} is missing (the order index names it)`)
      }
      yield bytes
    }
  }

  async *pending (): AsyncGenerator<Uint8Array> {
    for await (const bytes of this.db.values({ gte: 'p!', lt: 'p"' })) yield bytes
  }

  /** Whether any entry names this one as prev or parent (one key of the children index). */
  async hasChildren (id: string): Promise<boolean> {
    const prefix = `c!${id}!`
    return (await this.db.keys({ gte: prefix, lt: prefix + '\xff', limit: 1 }).all()).length > 0
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
    await this.commits.idle()
    await this.db.close()
  }
}

/** A chain record that decodes and whose entry bytes hash to the CID it names (checked before packing). */
function recordHoldsItsEntry (key: string, record: Uint8Array): boolean {
  try {
    const r = decodeChainRecord(key, record)
    return cidString(cidOfBytes(r.bytes, nodeCrypto)) === r.id
  } catch {
    return false
  }
}

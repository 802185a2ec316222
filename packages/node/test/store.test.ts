import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Level } from 'level'
import { checkLevelTables, crc32c, scanLevelLogs, scanLogBytes } from '../src/leveldb-log.js'
import { Store, StoreDamagedError, type StoredEntry } from '../src/store.js'
import { fakeStoredEntry } from './helpers/stored-entry.js'
import { decodeIntegrityRecord, encodeIntegrityRecord } from '../src/store-integrity.js'

const root = mkdtempSync(join(tmpdir(), 'govmesh-store-unit-'))
afterAll(() => { rmSync(root, { recursive: true, force: true }) })
let dirs = 0
const freshDir = (): string => join(root, `db${++dirs}`)

const AUTHOR_A = 'aa'.repeat(32)
const AUTHOR_B = 'bb'.repeat(32)
/** Stored entries with made-up ids: the store indexes what the core accepted, it does not validate. */
function entries (author: string, from: number, to: number): StoredEntry[] {
  const out: StoredEntry[] = []
  for (let seq = from; seq <= to; seq++) {
    const bytes = new Uint8Array(200).fill(seq % 251)
    out.push(fakeStoredEntry(`cid-${author.slice(0, 4)}-${seq}`, author, seq, bytes))
  }
  return out
}

async function storeWith (path: string, batches: StoredEntry[][]): Promise<void> {
  const store = await Store.open({ path, meshId: 'mesh-1' })
  for (const b of batches) await store.putAccepted(b)
  await store.close()
}

async function damagedError (path: string): Promise<StoreDamagedError> {
  const err = await Store.open({ path, meshId: 'mesh-1' }).then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(StoreDamagedError)
  return err as StoreDamagedError
}

describe('the LevelDB write-ahead log scanner', () => {
  it('computes CRC32C (Castagnoli) like LevelDB', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283)
  })

  it('finds a garbled record, with the entry keys legible in the dropped bytes; a cut tail is not damage', async () => {
    const path = freshDir()
    await storeWith(path, [entries(AUTHOR_A, 1, 20), entries(AUTHOR_A, 21, 40)])
    expect(scanLevelLogs(path).damage).toEqual([])
    const log = join(path, readdirSync(path).find(f => f.endsWith('.log'))!)
    const bytes = new Uint8Array(readFileSync(log))

    const cut = scanLogBytes('x.log', bytes.subarray(0, bytes.length - 100))
    expect(cut).toMatchObject({ damage: [], tornTail: true })

    const garbled = new Uint8Array(bytes)
    garbled[bytes.length - 300] = garbled[bytes.length - 300]! ^ 0x01
    const scan = scanLogBytes('x.log', garbled)
    expect(scan.damage).toHaveLength(1)
    expect(scan.damage[0]!.reason).toBe('checksum mismatch')
    const seqs = scan.damage[0]!.entries.map(e => e.seq)
    expect(seqs).toContain(40) // the last batch (seq 21-40) is the damaged record
    expect(seqs.every(s => s >= 21)).toBe(true)
  })

  it('finds a truncated or missing table file from the manifest', async () => {
    const path = freshDir()
    await storeWith(path, [entries(AUTHOR_A, 1, 30)])
    const db = new Level(path)
    await db.open() // reopening turns the log into a table
    await db.close()
    const table = readdirSync(path).find(f => f.endsWith('.ldb'))!
    expect(checkLevelTables(path)).toEqual([])
    const size = readFileSync(join(path, table)).length
    truncateSync(join(path, table), 100)
    expect(checkLevelTables(path)).toEqual([{ file: table, expectedBytes: size, actualBytes: 100 }])
    unlinkSync(join(path, table))
    expect(checkLevelTables(path)).toEqual([{ file: table, expectedBytes: size, actualBytes: null }])
    expect((await damagedError(path)).message).toContain(`table ${table} is missing`)
  })
})

describe('the store integrity record', () => {
  it('round-trips its encoding', () => {
    const r = { entries: 7, authors: new Map([[AUTHOR_A, 5], [AUTHOR_B, 2]]) }
    expect(decodeIntegrityRecord(encodeIntegrityRecord(r))).toEqual(r)
  })

  it('vouches for every entry: a lost one is named by author and seq range, and open refuses', async () => {
    const path = freshDir()
    await storeWith(path, [entries(AUTHOR_A, 1, 10), entries(AUTHOR_B, 1, 3), entries(AUTHOR_A, 11, 12)])
    const ok = await Store.open({ path, meshId: 'mesh-1' })
    await ok.close()
    // Loss the way a dropped log block loses it: every key of the entries, not the newer record.
    const db = new Level<string, string>(path)
    await db.open()
    const order: string[] = []
    for await (const [k, v] of db.iterator({ gte: 'o!', lt: 'o"' })) {
      if (/^cid-aaaa-(4|5|6)$/.test(v)) order.push(k)
    }
    await db.batch([
      ...[4, 5, 6].map(seq => ({ type: 'del' as const, key: `a!${AUTHOR_A}!${seq.toString(16).padStart(12, '0')}` })),
      ...order.map(key => ({ type: 'del' as const, key }))
    ])
    await db.close()
    const err = await damagedError(path)
    expect(err.report?.missing).toMatchObject({ entries: 3, ranges: [{ author: AUTHOR_A, from: 4, to: 6 }] })
    expect(err.message).toMatch(/3 of 15 entries missing \(12D3KooW\w+ seq 4-6\)/)
    // The node's open: the same comparison, settled while it reads its checkpoint.
    const concurrent = await Store.open({ path, meshId: 'mesh-1', checkIndexes: 'concurrently' })
    const later = await concurrent.indexesChecked.then(() => undefined, (e: unknown) => e)
    await concurrent.close()
    expect(later).toBeInstanceOf(StoreDamagedError)
    expect((later as StoreDamagedError).message).toBe(err.message)
  })

  it('a whole store passes the concurrent index check', async () => {
    const path = freshDir()
    await storeWith(path, [entries(AUTHOR_A, 1, 2500), entries(AUTHOR_B, 1, 1700), entries(AUTHOR_A, 2501, 2600)])
    const store = await Store.open({ path, meshId: 'mesh-1', checkIndexes: 'concurrently' })
    await expect(store.indexesChecked).resolves.toBeUndefined()
    expect((await store.check()).ok).toBe(true)
    await store.close()
  })

  it('migrates a schema-1 store once, computing the record from what it holds', async () => {
    const path = freshDir()
    await storeWith(path, [entries(AUTHOR_A, 1, 4)])
    const db = new Level<string, string>(path)
    await db.open()
    await db.batch([{ type: 'put', key: 'm!schema', value: '1' }, { type: 'del', key: 'm!integrity' }])
    await db.close()
    const migrated = await Store.open({ path, meshId: 'mesh-1' })
    expect(migrated.migratedFrom).toBe(1)
    await migrated.putAccepted(entries(AUTHOR_A, 5, 5))
    await migrated.close()
    const again = await Store.open({ path, meshId: 'mesh-1' })
    // The integrity record is migrated once; the checkpoint (schema 3) waits for the node's replay.
    expect(again.migratedFrom).toBe(2)
    expect(again.needsCheckpoint).toBe(true)
    expect((await again.check()).expected).toBe(5)
    await again.close()
  })

  it('refuses a damaged write-ahead log before LevelDB opens (and rewrites) the store', async () => {
    const path = freshDir()
    await storeWith(path, [entries(AUTHOR_A, 1, 5), entries(AUTHOR_A, 6, 8)])
    const log = join(path, readdirSync(path).find(f => f.endsWith('.log'))!)
    const bytes = readFileSync(log)
    bytes[100] = bytes[100]! ^ 0xff
    writeFileSync(log, bytes)
    const before = readdirSync(path).sort()
    const refused = await damagedError(path)
    expect(refused.summary).toMatch(/^write-ahead log \d+\.log: \d+ bytes at offset \d+ unreadable/)
    expect(refused.summary).toContain('(checksum mismatch)')
    expect(readdirSync(path).sort()).toEqual(before)
    expect(readFileSync(log).equals(bytes)).toBe(true)
    const inspected = await Store.inspect(path)
    expect(inspected.report.ok).toBe(false)
    expect(inspected.report.missing.ranges).toEqual([expect.objectContaining({ author: AUTHOR_A, from: 1, to: 8 })])
    await inspected.close()
    expect(readFileSync(log).equals(bytes)).toBe(true)
  })

  it('a store LevelDB cannot open is refused with one line, not a stack trace', async () => {
    const path = freshDir()
    await storeWith(path, [entries(AUTHOR_A, 1, 2)])
    writeFileSync(join(path, 'CURRENT'), 'garbage')
    const err = await damagedError(path)
    expect(err.summary).toMatch(/^LevelDB cannot open it: /)
    expect(err.message).not.toContain('\n')
  })
})

describe('pending entries in the store', () => {
  it('an accepted entry deletes its p! key only if it had one, also one written before a restart', async () => {
    const path = freshDir()
    const [waited, fresh, later] = entries(AUTHOR_A, 1, 3)
    let store = await Store.open({ path, meshId: 'mesh-1' })
    await store.putPending(waited!.id, waited!.bytes)
    await store.putPending(later!.id, later!.bytes)
    // The store's writes reach classic-level's _batch (directly, or through level's batch()).
    type Ops = Array<{ type: string, key: string }>
    const db = (store as unknown as { db: { _batch: (ops: Ops, ...rest: unknown[]) => Promise<void> } }).db
    const batches: Ops[] = []
    const batch = db._batch.bind(db)
    db._batch = async (ops, ...rest) => {
      batches.push(ops)
      await batch(ops, ...rest)
    }
    await store.putAccepted([waited!, fresh!])
    expect(batches.flat().filter(o => o.type === 'del').map(o => o.key)).toEqual([`p!${waited!.id}`])
    await store.close()

    store = await Store.open({ path, meshId: 'mesh-1' })
    try {
      const pendingBefore: Uint8Array[] = []
      for await (const bytes of store.pending()) pendingBefore.push(bytes)
      expect(pendingBefore).toHaveLength(1)
      await store.putAccepted([later!])
      const left: Uint8Array[] = []
      for await (const bytes of store.pending()) left.push(bytes)
      expect(left).toEqual([])
    } finally {
      await store.close()
    }
  })
})

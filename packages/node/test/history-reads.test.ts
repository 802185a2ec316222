/**
 * The query reads of a history on disk (ancestry, log, proof export): the same answers as the
 * DAG's own walk over a history in memory, read in batches from a real level store (chains by
 * ranges of the author/seq index), and a damaged or missing entry in the range read is reported,
 * never served.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Level } from 'level'
import {
  createDag, createGenesis, execRequestBody, keyPairFromSecret, nextEntry, toHex, verifyProof, type Dag, type KeyPair,
  type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { HistoryDamagedError } from '../src/errors.js'
import { memoryIndex, storeIndex, type HistoryIndex } from '../src/history-index.js'
import { logEntries } from '../src/history-queries.js'
import { ancestryEntries, proofBlocks, proofCar } from '../src/history-reads.js'
import { LevelHistory } from '../src/level-history.js'
import { exportProofCar, readProofCar, writeProofCar } from '../src/proof-car.js'
import { Store } from '../src/store.js'
import { chainKey, packKey } from '../src/store-keys.js'
import { PACK_RECORDS, packOf } from '../src/chain-pack.js'
import { decodeChainRecord, encodeChainRecord } from '../src/chain-record.js'

const root = mkdtempSync(join(tmpdir(), 'govmesh-history-reads-'))
afterAll(() => { rmSync(root, { recursive: true, force: true }) })

const key = (n: number): KeyPair => keyPairFromSecret(new Uint8Array(32).fill(n), nodeCrypto)
const gov = key(1)
const writers = [key(2), key(3), key(4)]
const genesis = createGenesis({
  governors: [gov.publicKey], members: writers.map(w => ({ key: w.publicKey, zone: 'a' })), time: 1000
}, gov, nodeCrypto)

/** Entries past this many are accepted and not written (the DAG reads them from the history's own map). */
const UNWRITTEN_FROM = 117

/** The same entries offered to a DAG in memory and to one on a level store. */
interface Built { memory: Dag, disk: Dag, index: HistoryIndex, store: Store, path: string, entries: SignedEntry[] }

/**
 * Three writer chains of 40 entries; every fifth entry of a chain also cites the newest entry of
 * the previous writer, so walks cross chains and chain reads meet entries already read.
 */
async function build (path: string): Promise<Built> {
  const memory = createDag({ genesis, crypto: nodeCrypto })
  const storeRef: { store?: Store } = {}
  const history = new LevelHistory(() => storeRef.store)
  const disk = createDag({ genesis, crypto: nodeCrypto, history })
  const store = storeRef.store = await Store.open({ path, meshId: genesis.id })
  const write = async (ids: string[]): Promise<void> => {
    await store.putAccepted(history.take(ids))
    history.written(ids)
  }
  await write([genesis.id])
  const entries: SignedEntry[] = []
  let time = 2000
  for (let round = 0; round < 40; round++) {
    for (const [w, keys] of writers.entries()) {
      const other = entries.findLast(e => toHex(e.entry.author) === toHex(writers[(w + 2) % 3]!.publicKey))
      const parents = round % 5 === 4 && other !== undefined ? [other.cid] : []
      const body = execRequestBody({ action: 'echo', resource: `r/${w}/${round}`, target: 'zone:a', nonce: `${w}.${round}` })
      const e = nextEntry(memory, keys, { type: 'exec.request', body, parents, time: ++time }, nodeCrypto)
      memory.add(e)
      const added = disk.add(e.bytes)
      expect(added.status).toBe('accepted')
      entries.push(e)
      // Written in batches of three, as group commit would; the last three stay accepted and unwritten.
      if (entries.length % 3 === 0 && entries.length <= UNWRITTEN_FROM) await write(entries.slice(-3).map(x => x.id))
    }
  }
  return { memory, disk, index: storeIndex(() => store, history), store, path, entries }
}

/** Overwrites or deletes one chain entry's stored bytes (with the store closed), and reopens it. */
async function damage (b: Built, victim: SignedEntry, bytes: Uint8Array | undefined): Promise<Built> {
  await b.store.close()
  const db = new Level<string, Uint8Array>(b.path, { valueEncoding: 'view' })
  await db.open()
  const key = chainKey(toHex(victim.entry.author), victim.entry.seq)
  const record = decodeChainRecord(key, (await db.get(key)))
  if (bytes === undefined) await db.del(key)
  else await db.put(key, encodeChainRecord(victim.id, bytes, record.meta))
  await db.close()
  const store = await Store.open({ path: b.path, meshId: genesis.id })
  const history = new LevelHistory(() => store)
  const disk = createDag({ genesis, crypto: nodeCrypto, history })
  return { ...b, store, disk, index: storeIndex(() => store, history) }
}

describe('history reads from level', () => {
  let b!: Built
  beforeAll(async () => { b = await build(join(root, 'db')) })
  afterAll(async () => { await b.store.close() })

  it('ancestry: exactly the DAG walk (order, depth, limit), each entry decoded once', async () => {
    const roots = [b.entries.at(-1)!, b.entries[59]!, b.entries[14]!]
    for (const r of roots) {
      for (const opts of [{}, { limit: 100 }, { limit: 7 }, { depth: 3 }, { depth: 12, limit: 20 }]) {
        const got = await ancestryEntries(b.disk, b.index, r.id, opts)
        expect(got.map(e => e.id)).toEqual(b.memory.ancestry(r.id, opts))
        const fromMemory = await ancestryEntries(b.memory, memoryIndex(b.memory), r.id, opts)
        expect(fromMemory.map(e => e.id)).toEqual(got.map(e => e.id))
      }
    }
    const [first] = await ancestryEntries(b.disk, b.index, b.entries[10]!.id, { limit: 1 })
    expect(Buffer.from(first!.bytes).equals(b.entries[10]!.bytes)).toBe(true)
  })

  it('proof export: the same CAR as the in-memory exporter, and it verifies', async () => {
    for (const r of [b.entries.at(-1)!, b.entries[30]!]) {
      const blocks = await proofBlocks(b.disk, b.index, r.id)
      const car = writeProofCar(r.cid, blocks)
      expect(car).toEqual(exportProofCar(b.memory, r.id))
      // What the API serves: the same bytes, written from the ids without a CID object per block.
      expect(await proofCar(b.disk, b.index, r.id)).toEqual(car)
      const read = await readProofCar(car)
      expect(verifyProof({ root: read.root, blocks: read.blocks, genesis, expect: r.cid, crypto: nodeCrypto }))
        .toMatchObject({ valid: true })
    }
  })

  it('log: by author and by type, newest first, up to the limit', async () => {
    // The log reads the store's indexes: entries not written yet are not in them.
    const written = b.entries.slice(0, UNWRITTEN_FROM)
    const author = toHex(writers[1]!.publicKey)
    const byAuthor = await logEntries(b.disk, b.index, { author, limit: 12 })
    const chain = written.filter(e => toHex(e.entry.author) === author).reverse()
    expect(byAuthor.map(e => e.cid)).toEqual(chain.slice(0, 12).map(e => e.id))
    const byType = await logEntries(b.disk, b.index, { type: 'exec.request', limit: 5 })
    expect(byType.map(e => e.cid)).toEqual(written.slice(-5).reverse().map(e => e.id))
    expect(await logEntries(b.disk, b.index, { type: 'policy.update', limit: 5 })).toEqual([])
    const early = await logEntries(b.disk, b.index, { until: b.entries[2]!.entry.time, limit: 50 })
    expect(early.map(e => e.cid)).toEqual([b.entries[2]!.id, b.entries[1]!.id, b.entries[0]!.id, genesis.id])
  })

  it('a walk down a chain reads it by author and seq: a read by CID only where a chain starts', async () => {
    // A cold cache (a restarted node): every read reaches the store.
    const history = new LevelHistory(() => b.store, 1)
    const disk = createDag({ genesis, crypto: nodeCrypto, history })
    const index = storeIndex(() => b.store, history)
    const reads = vi.spyOn(b.store as unknown as { readSync: (key: string) => unknown }, 'readSync')
    const ranges = vi.spyOn(b.store, 'chainRange')
    // Packs are kept decoded once read: their lookups, not their reads, say how a chain was read.
    const packLookups = vi.spyOn(b.store as unknown as { packRecords: (a: string, block: number) => unknown }, 'packRecords')
    /** Point reads by CID (metadata records, `e!`), of chain records, and of chain packs. */
    const counts = (): { byCid: number, chain: number, packs: number } => {
      const keys = reads.mock.calls.map(([key]) => key)
      return {
        byCid: keys.filter(k => !/^[hg]!/.test(k)).length,
        chain: keys.filter(k => k.startsWith('h!')).length,
        packs: packLookups.mock.results.filter(r => r.value !== undefined).length
      }
    }
    try {
      const r = b.entries[100]!
      const got = await ancestryEntries(disk, index, r.id, { limit: 30 })
      expect(got.map(e => e.id)).toEqual(b.memory.ancestry(r.id, { limit: 30 }))
      // Located through its metadata record: the root, and each parent that starts another chain.
      const starts = new Set(got.map(e => toHex(e.entry.author))).size
      expect(counts().byCid).toBeGreaterThan(0)
      expect(counts().byCid).toBeLessThanOrEqual(starts + 1)
      expect(reads.mock.calls.every(([key]) => /^[xhg]!/.test(key))).toBe(true)
      expect(ranges.mock.calls.length).toBeLessThanOrEqual(starts + 1)

      // A proof reads each chain it meets whole, once: a read by CID per chain for some 100 entries.
      reads.mockClear()
      ranges.mockClear()
      packLookups.mockClear()
      const blocks = await proofBlocks(disk, index, r.id)
      const closure = new Set([...b.memory.ancestry(r.id), genesis.id])
      expect(blocks.map(x => x.cid.toString()).sort()).toEqual([...closure].sort())
      expect(blocks.length).toBeGreaterThan(90)
      expect(ranges.mock.calls.length).toBeLessThanOrEqual(writers.length + 1)
      expect(counts().byCid).toBeLessThanOrEqual(writers.length + 1)
      // Each complete block of 16 seqs is one read of its pack; only the chains' newest seqs are single records.
      const { chain, packs } = counts()
      expect(packs).toBeGreaterThan(0)
      expect(chain + PACK_RECORDS * packs).toBeGreaterThanOrEqual(blocks.length - 1)
      expect(chain + packs).toBeLessThan(blocks.length / 3)

      // The author log reads chain records (bytes included): nothing by CID.
      reads.mockClear()
      const author = toHex(writers[0]!.publicKey)
      expect(await logEntries(disk, index, { author, limit: 20 })).toHaveLength(20)
      expect(counts().byCid).toBe(0)
    } finally {
      reads.mockRestore()
      ranges.mockRestore()
      packLookups.mockRestore()
    }
  })

  it('a flipped byte in a chain pack is damage: every read of the pack reports it, nothing of it is served', async () => {
    const top = b.entries[UNWRITTEN_FROM - 1]!
    const victim = b.entries[40]!
    const key = packKey(toHex(victim.entry.author), packOf(victim.entry.seq))
    await b.store.close()
    const db = new Level<string, Uint8Array>(b.path, { valueEncoding: 'view' })
    await db.open()
    const pack = (await db.get(key)).slice()
    pack[pack.length - 1]! ^= 1
    await db.put(key, pack)
    await db.close()
    const store = await Store.open({ path: b.path, meshId: genesis.id })
    const history = new LevelHistory(() => store, 1)
    const disk = createDag({ genesis, crypto: nodeCrypto, history })
    const index = storeIndex(() => store, history)
    try {
      const damaged = `chain pack ${key} does not hash to its digest`
      await expect(proofBlocks(disk, index, top.id)).rejects.toThrow(damaged)
      await expect(proofCar(disk, index, top.id)).rejects.toThrow(damaged)
      await expect(ancestryEntries(disk, index, victim.id, { limit: 5 })).rejects.toThrow(damaged)
      expect(() => store.entrySync(victim.id, { author: toHex(victim.entry.author), seq: victim.entry.seq }))
        .toThrow(damaged)
      // Entries of other blocks are still served.
      expect(await ancestryEntries(disk, index, top.id, { limit: 3 })).toHaveLength(3)
    } finally {
      await store.close()
      // Undone for the next case: the pack as it was written.
      const undo = new Level<string, Uint8Array>(b.path, { valueEncoding: 'view' })
      await undo.open()
      pack[pack.length - 1]! ^= 1
      await undo.put(key, pack)
      await undo.close()
      b = { ...b, store: await Store.open({ path: b.path, meshId: genesis.id }) }
      const h = new LevelHistory(() => b.store)
      b = { ...b, disk: createDag({ genesis, crypto: nodeCrypto, history: h }), index: storeIndex(() => b.store, h) }
    }
  })

  it('a damaged or missing entry in the range read is reported, not served', async () => {
    const top = b.entries[UNWRITTEN_FROM - 1]!
    // In its chain's newest block, which is not complete: a record of its own, not packed.
    const victim = b.entries[99]!
    expect(victim.entry.seq % PACK_RECORDS).not.toBe(0)
    // Another entry's bytes under the victim's CID: they decode, but do not hash to it.
    b = await damage(b, victim, b.entries[0]!.bytes)
    const garbled = HistoryDamagedError
    await expect(ancestryEntries(b.disk, b.index, top.id, { limit: 100 })).rejects.toThrow(garbled)
    await expect(ancestryEntries(b.disk, b.index, top.id, { limit: 100 })).rejects
      .toThrow(`stored entry ${victim.id} is damaged: its bytes do not hash to its CID`)
    await expect(proofBlocks(b.disk, b.index, top.id)).rejects.toThrow(garbled)
    await expect(proofCar(b.disk, b.index, top.id)).rejects.toThrow(`stored entry ${victim.id} is damaged`)
    const author = toHex(victim.entry.author)
    await expect(logEntries(b.disk, b.index, { author, limit: 50 })).rejects.toThrow(garbled)
    // Entries above the damage are still served.
    expect(await ancestryEntries(b.disk, b.index, top.id, { limit: 3 })).toHaveLength(3)

    b = await damage(b, victim, undefined)
    await expect(proofBlocks(b.disk, b.index, top.id)).rejects
      .toThrow(`entry ${victim.id} is missing from the store (a proof export names it)`)
    const err = await logEntries(b.disk, b.index, { type: 'exec.request', limit: 100 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HistoryDamagedError)
    expect((err as HistoryDamagedError).code).toBe('store.damaged')
  })
})

/**
 * Chain packs (schema 5): the records of a complete block of 16 seqs become one value in the batch
 * that completes the block; every read of a chain (ranges, single entries, `dag verify`'s walk)
 * sees the same records as before packing; a pack that does not hash to its digest is damage, and
 * a block with a record that does not hold its entry is left unpacked.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Level } from 'level'
import { cidOfBytes, cidString } from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { decodeChainPack, encodeChainPack, PACK_RECORDS, packOf } from '../src/chain-pack.js'
import { ChainRecordError } from '../src/chain-record.js'
import { Store, StoreDamagedError, type StoredEntry } from '../src/store.js'
import { packKey } from '../src/store-keys.js'
import { fakeStoredEntry } from './helpers/stored-entry.js'

const root = mkdtempSync(join(tmpdir(), 'govmesh-chain-pack-'))
afterAll(() => { rmSync(root, { recursive: true, force: true }) })
let dirs = 0
const freshDir = (): string => join(root, `db${++dirs}`)

const AUTHOR = 'ab'.repeat(32)
const OTHER = 'cd'.repeat(32)
const sha256 = nodeCrypto.sha256

/** Entries whose ids are their bytes' CIDs (the store packs only records that hold their entry). */
function chain (author: string, from: number, to: number): StoredEntry[] {
  const out: StoredEntry[] = []
  for (let seq = from; seq <= to; seq++) {
    const bytes = new TextEncoder().encode(`${author.slice(0, 4)} entry ${seq} `.repeat(1 + seq % 7))
    out.push(fakeStoredEntry(cidString(cidOfBytes(bytes, nodeCrypto)), author, seq, bytes))
  }
  return out
}

async function keysOf (path: string, prefix: string): Promise<string[]> {
  const db = new Level<string, Uint8Array>(path, { valueEncoding: 'view' })
  await db.open()
  try {
    const keys: string[] = []
    for await (const k of db.keys({ gte: prefix, lt: prefix.slice(0, -1) + '"' })) keys.push(k)
    return keys
  } finally {
    await db.close()
  }
}

describe('chain packs', () => {
  it('round-trip; a flipped byte or a cut is damage', () => {
    const records = Array.from({ length: PACK_RECORDS }, (_, i) => new Uint8Array(10 + i).fill(i))
    const pack = encodeChainPack(records, sha256)
    expect(decodeChainPack('k', pack, sha256)).toEqual(records)
    for (const at of [2, 40, pack.length - 1]) {
      const bad = pack.slice()
      bad[at]! ^= 1
      expect(() => decodeChainPack('k', bad, sha256)).toThrow('chain pack k does not hash to its digest')
    }
    expect(() => decodeChainPack('k', pack.subarray(0, 20), sha256)).toThrow(ChainRecordError)
    expect(() => encodeChainPack(records.slice(1), sha256)).toThrow(ChainRecordError)
    expect(packOf(1)).toBe(0)
    expect(packOf(PACK_RECORDS)).toBe(0)
    expect(packOf(PACK_RECORDS + 1)).toBe(1)
  })

  it('a block is packed by the batch that completes it, and every read sees the same records', async () => {
    const path = freshDir()
    const written = chain(AUTHOR, 1, 40)
    const other = chain(OTHER, 1, 20)
    let store = await Store.open({ path, meshId: 'mesh-1' })
    // Batches of three, two authors interleaved: a block's records come from earlier batches and its own.
    for (let i = 0; i < 40; i += 3) {
      await store.putAccepted([...written.slice(i, i + 3), ...other.slice(i / 3, i / 3 + 1)])
    }
    await store.putAccepted(other.slice(14))
    await store.close()
    expect(await keysOf(path, 'g!')).toEqual([packKey(OTHER, 0), packKey(AUTHOR, 0), packKey(AUTHOR, 1)].sort())
    // Only the records of the incomplete blocks are left as single records.
    expect((await keysOf(path, 'h!')).length).toBe(8 + 4)

    store = await Store.open({ path, meshId: 'mesh-1' })
    try {
      const range = store.chainRange(AUTHOR, 1, 40)
      expect(range.map(r => r.id)).toEqual(written.map(e => e.id).reverse())
      expect(range.every((r, i) => Buffer.from(r.bytes).equals(Buffer.from(written[39 - i]!.bytes)))).toBe(true)
      expect(range.filter(r => r.packed === true).length).toBe(32)
      expect(store.chainRange(AUTHOR, 14, 19).map(r => r.id)).toEqual(written.slice(13, 19).map(e => e.id).reverse())
      for (const e of [written[0]!, written[15]!, written[16]!, written[39]!]) {
        const bytes = Buffer.from(e.bytes)
        expect(Buffer.from(store.entrySync(e.id, { author: AUTHOR, seq: e.seq })!).equals(bytes)).toBe(true)
        expect(Buffer.from(store.entrySync(e.id)!).equals(bytes)).toBe(true)
      }
      const records: Array<[string, number, string]> = []
      for await (const [author, seq, r] of store.chainRecords()) records.push([author, seq, r.id])
      expect(records).toHaveLength(60)
      expect(records.filter(([a]) => a === AUTHOR).sort((x, y) => x[1] - y[1]))
        .toEqual(written.map(e => [AUTHOR, e.seq, e.id]))
    } finally {
      await store.close()
    }
  })

  it('a block with a record that does not hold its entry is left unpacked; a damaged pack is reported', async () => {
    const path = freshDir()
    const written = chain(AUTHOR, 1, 32)
    // Seq 5's bytes do not hash to its id: its block stays as single records (for `dag verify` to name).
    written[4] = fakeStoredEntry(written[4]!.id, AUTHOR, 5, new TextEncoder().encode('not the entry'))
    let store = await Store.open({ path, meshId: 'mesh-1' })
    await store.putAccepted(written)
    await store.close()
    expect(await keysOf(path, 'g!')).toEqual([packKey(AUTHOR, 1)])
    expect((await keysOf(path, 'h!')).length).toBe(16)

    const db = new Level<string, Uint8Array>(path, { valueEncoding: 'view' })
    await db.open()
    const pack = (await db.get(packKey(AUTHOR, 1))).slice()
    pack[100]! ^= 1
    await db.put(packKey(AUTHOR, 1), pack)
    await db.close()
    store = await Store.open({ path, meshId: 'mesh-1' })
    try {
      expect(store.chainRange(AUTHOR, 1, 16)).toHaveLength(16)
      expect(() => store.chainRange(AUTHOR, 1, 32)).toThrow(StoreDamagedError)
      expect(() => store.entrySync(written[20]!.id)).toThrow(/chain pack g!(ab)+!0+1 does not hash to its digest/)
      const walk = async (): Promise<number> => {
        let n = 0
        for await (const _ of store.chainRecords()) n++
        return n
      }
      await expect(walk()).rejects.toThrow(StoreDamagedError)
    } finally {
      await store.close()
    }
  })
})

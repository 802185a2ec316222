/**
 * Schema 3 → 4: a store written by the schema-3 code (fixtures/schema3-store.json, every key it
 * wrote) migrates at the node's first start to chain records, and then answers every history query
 * (ancestry, log, export, sync) exactly as the schema-3 code answered on it; an interrupted
 * migration finishes at the next start; an entry missing from the store stops it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Level } from 'level'
import { createGovmeshNode, type GovmeshNode } from '../src/node.js'
import { silentLogger } from '../src/logger.js'
import { StoreDamagedError } from '../src/store.js'
import { decodeChainRecord, encodeChainRecord } from '../src/chain-record.js'
import {
  fixtureEntries, fixtureGenesis, observe, writeNodeKey, type FixtureAnswers
} from './helpers/store-fixture.js'

const fixture = JSON.parse(readFileSync(new URL('./fixtures/schema3-store.json', import.meta.url), 'utf8')) as {
  schema: number, keys: Array<[string, string]>, answers: FixtureAnswers
}
const root = mkdtempSync(join(tmpdir(), 'govmesh-store-migration-'))
afterAll(() => { rmSync(root, { recursive: true, force: true }) })
let dirs = 0
const entries = fixtureEntries()

type Db = Level<string, Uint8Array>

/** A data dir holding the schema-3 store, with `edit` applied to it first. */
async function schema3Dir (edit?: (db: Db) => Promise<void>): Promise<string> {
  const dir = join(root, `node${++dirs}`)
  mkdirSync(dir)
  writeNodeKey(dir)
  const db: Db = new Level<string, Uint8Array>(join(dir, 'db'), { valueEncoding: 'view' })
  await db.open()
  await db.batch(fixture.keys.map(([key, hex]) => ({ type: 'put' as const, key, value: Buffer.from(hex, 'hex') })))
  await edit?.(db)
  await db.close()
  return dir
}

const start = async (dir: string): Promise<GovmeshNode> => await createGovmeshNode({
  dataDir: dir, genesis: fixtureGenesis, listen: ['/ip4/127.0.0.1/tcp/0'], verifyThreads: 0, logger: silentLogger
})

/** Keys by prefix, and the schema, of a stopped node's store. */
async function layout (dir: string): Promise<{ schema: string, counts: Record<string, number> }> {
  const db: Db = new Level<string, Uint8Array>(join(dir, 'db'), { valueEncoding: 'view' })
  await db.open()
  const counts: Record<string, number> = {}
  for await (const key of db.keys()) counts[key.slice(0, 2)] = (counts[key.slice(0, 2)] ?? 0) + 1
  const schema = new TextDecoder().decode(await db.get('m!schema'))
  await db.close()
  return { schema, counts }
}

describe('store migration from schema 3', () => {
  it('moves every chain entry to its chain record and answers every query as schema 3 did', async () => {
    expect(fixture.schema).toBe(3)
    const before = await layout(await schema3Dir())
    expect(before).toMatchObject({ schema: '3', counts: { 'e!': entries.length + 1 } })
    expect(before.counts['h!']).toBeUndefined()

    const dir = await schema3Dir()
    const node = await start(dir)
    expect(await observe(node, entries)).toEqual(fixture.answers)
    await node.stop()
    const after = await layout(dir)
    // The genesis and the 90 chain entries moved; the equivocation's later entry stays off the chain.
    expect(after).toMatchObject({ schema: '5', counts: { 'h!': entries.length, 'a!': entries.length, 'e!': 1 } })

    // The next start resumes at schema 5 (nothing left to move) and answers the same.
    const again = await start(dir)
    expect(await observe(again, entries)).toEqual(fixture.answers)
    await again.stop()
  })

  it('an interrupted migration (some entries moved, schema still 3) finishes at the next start', async () => {
    const dir = await schema3Dir(async (db) => {
      // What a migration stopped after its first batch leaves: these entries moved, the rest not.
      const ops: Array<{ type: 'put', key: string, value: Uint8Array } | { type: 'del', key: string }> = []
      for await (const [key, value] of db.iterator({ gte: 'a!', lt: 'a"', limit: 40 })) {
        const id = new TextDecoder().decode(value)
        const bytes = (await db.get(`e!${id}`))
        ops.push({ type: 'put', key: `h!${key.slice(2)}`, value: encodeChainRecord(id, bytes, await db.get(`x!${id}`)) })
        ops.push({ type: 'del', key: `e!${id}` })
      }
      await db.batch(ops)
    })
    const node = await start(dir)
    expect(await observe(node, entries)).toEqual(fixture.answers)
    await node.stop()
    expect(await layout(dir)).toMatchObject({ schema: '5', counts: { 'h!': entries.length, 'e!': 1 } })
  })

  it('an entry the author/seq index names and the store lacks stops the migration: damage, schema kept', async () => {
    const victim = entries[30]!
    const dir = await schema3Dir(async (db) => { await db.del(`e!${victim.id}`) })
    const err = await start(dir).then(async (n) => { await n.stop() }, (e: unknown) => e)
    expect(err).toBeInstanceOf(StoreDamagedError)
    expect((err as StoreDamagedError).message).toContain(`entry ${victim.id} is missing`)
    expect((await layout(dir)).schema).toBe('3')
  })

  it('chain records hold the CID, the metadata record and the exact bytes', () => {
    const e = entries[5]!
    const meta = new Uint8Array([1, 2, 3])
    const r = decodeChainRecord('k', encodeChainRecord(e.id, e.bytes, meta))
    expect(r.id).toBe(e.id)
    expect([...r.meta!]).toEqual([1, 2, 3])
    expect(Buffer.from(r.bytes).equals(Buffer.from(e.bytes))).toBe(true)
    expect(decodeChainRecord('k', encodeChainRecord(e.id, e.bytes)).meta).toBeUndefined()
    expect(() => decodeChainRecord('k', new Uint8Array([2, 0, 0, 0]))).toThrow('chain record k is malformed')
  })
})

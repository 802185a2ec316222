/**
 * `dag verify` on the two layouts: a store written by the schema-3 code (the node package's
 * fixture) verifies clean and says its entries move at the next start; once moved (schema 5) it
 * verifies clean, checking every chain record against the replay; a chain record whose metadata
 * disagrees with the replay is named; many damaged author index keys are named three at a time,
 * the rest counted, not printed one line each.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Level } from 'level'
import { Store } from '@govmesh/node'
import { renderVerify, verifyStore } from '../src/offline-store.js'

const fixture = JSON.parse(readFileSync(
  new URL('../../node/test/fixtures/schema3-store.json', import.meta.url), 'utf8'
)) as { keys: Array<[string, string]> }
const root = mkdtempSync(join(tmpdir(), 'govmesh-verify-chains-'))
afterAll(() => { rmSync(root, { recursive: true, force: true }) })

type Db = Level<string, Uint8Array>

async function withDb (dir: string, fn: (db: Db) => Promise<void>): Promise<void> {
  const db: Db = new Level<string, Uint8Array>(join(dir, 'db'), { valueEncoding: 'view' })
  await db.open()
  try { await fn(db) } finally { await db.close() }
}

describe('dag verify and chain records', () => {
  const dir = join(root, 'node')
  mkdirSync(dir)

  it('a schema-3 store verifies clean; once moved to chain records (schema 5) too', async () => {
    await withDb(dir, async (db) => {
      await db.batch(fixture.keys.map(([key, hex]) => ({ type: 'put' as const, key, value: Buffer.from(hex, 'hex') })))
    })
    const before = await verifyStore(dir, true)
    expect(before).toMatchObject({ ok: true, schema: 3, problems: [], entries: 92 })
    expect(renderVerify(before, dir)).toContain('entries are moved to chain records at the next start')

    const meshId = fixture.keys.find(([key]) => key === 'm!mesh')![1]
    const store = await Store.open({ path: join(dir, 'db'), meshId: Buffer.from(meshId, 'hex').toString() })
    expect(store.chainsMigrated).toBe(91)
    await store.close()
    expect(await verifyStore(dir, true)).toMatchObject({ ok: true, schema: 5, problems: [], entries: 92 })
  })

  it('a chain record whose metadata disagrees with the replay is named', async () => {
    let key = ''
    await withDb(dir, async (db) => {
      for await (const [k, record] of db.iterator({ gte: 'h!', lt: 'h"', limit: 1 })) {
        key = k
        const copy = record.slice()
        // The metadata record's time (f64 at byte 41 of it), after the version byte and the CID.
        const meta = 2 + copy[1]! + 2
        copy[meta + 41]! ^= 0x10
        await db.put(k, copy)
      }
    })
    const r = await verifyStore(dir, true)
    expect(r.ok).toBe(false)
    const [, author, seq] = key.split('!')
    expect(r.problems.join('\n')).toMatch(
      new RegExp(`chain record ${author!.slice(0, 16)}…/${parseInt(seq!, 16)}: metadata record of \\w+: time is`)
    )
  })

  it('damaged author index keys: three named, the rest counted in one line', async () => {
    await withDb(dir, async (db) => {
      const meshId = Buffer.from(await db.get('m!mesh')).toString()
      let n = 0
      // Ten author/seq keys pointing at the genesis, which no member's chain holds at a seq.
      for await (const [k] of db.iterator({ gte: 'a!', lt: 'a"', limit: 10 })) {
        await db.put(k, Buffer.from(meshId))
        n++
      }
      expect(n).toBe(10)
    })
    const r = await verifyStore(dir, true)
    expect(r.ok).toBe(false)
    const lines = r.problems.filter(p => p.startsWith('author index '))
    expect(lines).toHaveLength(3)
    expect(r.problems).toContain('and 7 more author index keys point to entries that do not match')
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { writeLevelBatch, type LevelOp } from '../src/level-batch.js'

const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

async function openDb (): Promise<Level<string, Uint8Array>> {
  const dir = mkdtempSync(join(tmpdir(), 'govmesh-level-batch-'))
  dirs.push(dir)
  const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
  await db.open()
  return db
}

async function contents (db: Level<string, Uint8Array>): Promise<Array<[string, number[]]>> {
  const out: Array<[string, number[]]> = []
  for await (const [k, v] of db.iterator()) out.push([k, [...v]])
  return out
}

describe('writeLevelBatch', () => {
  const ops: LevelOp[] = [
    { type: 'put', key: 'a!1', value: Uint8Array.of(1, 2, 3) },
    { type: 'put', key: 'b!é', value: new Uint8Array(0) },
    { type: 'put', key: 'c!1', value: new Uint8Array(Uint8Array.of(9, 8, 7, 6).buffer, 1, 2) },
    { type: 'del', key: 'a!0' },
    { type: 'put', key: 'a!1', value: Uint8Array.of(4) }
  ]

  it('leaves the store exactly as level batch() does, puts, views, deletions and order included', async () => {
    const viaBatch = await openDb()
    const direct = await openDb()
    for (const db of [viaBatch, direct]) await db.put('a!0', Uint8Array.of(5))
    await viaBatch.batch(ops)
    await writeLevelBatch(direct, ops, false)
    expect(await contents(direct)).toEqual(await contents(viaBatch))
    expect(await contents(direct)).toEqual([['a!1', [4]], ['b!é', []], ['c!1', [8, 7]]])
    await Promise.all([viaBatch.close(), direct.close()])
  })

  it('syncs when asked and writes nothing for no operations', async () => {
    const db = await openDb()
    await writeLevelBatch(db, ops, true)
    await writeLevelBatch(db, [], true)
    expect((await contents(db)).map(([k]) => k)).toEqual(['a!1', 'b!é', 'c!1'])
    await db.close()
  })

  it('refuses a closed database with level\'s own error, writing nothing', async () => {
    const db = await openDb()
    await db.close()
    await expect(writeLevelBatch(db, ops, false)).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' })
    await db.open()
    expect(await contents(db)).toEqual([])
    await db.close()
  })
})

/**
 * Group commit in the store: concurrent writers share level batches (and fsyncs), each
 * write resolves only once its batch is written, and the order on disk is the call order.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { GroupCommit } from '../src/group-commit.js'
import { Store, type StoredEntry } from '../src/store.js'
import { fakeStoredEntry } from './helpers/stored-entry.js'

const root = mkdtempSync(join(tmpdir(), 'govmesh-group-commit-'))
afterAll(() => { rmSync(root, { recursive: true, force: true }) })

const author = (n: number): string => n.toString(16).padStart(2, '0').repeat(32)
const entry = (a: number, seq: number): StoredEntry =>
  fakeStoredEntry(`cid-${a}-${seq}`, author(a), seq, new Uint8Array(100).fill(seq % 251))

describe('Store group commit', () => {
  it('concurrent synced writes share batches, all land, in call order, and the store checks clean', async () => {
    const path = join(root, 'db1')
    const store = await Store.open({ path, meshId: 'mesh-1' })
    const calls: StoredEntry[] = []
    const writes: Array<Promise<void>> = []
    // 16 writers, 20 rounds: each round every writer submits one entry without waiting for the others.
    for (let round = 1; round <= 20; round++) {
      for (let w = 0; w < 16; w++) {
        const e = entry(w, round)
        calls.push(e)
        writes.push(store.putAccepted([e], { sync: true }))
      }
      if (round % 5 === 0) await Promise.all(writes)
    }
    await Promise.all(writes)
    const stats = store.commitStats
    expect(stats.requests).toBe(calls.length)
    expect(stats.batches).toBeLessThan(calls.length / 4)
    expect(stats.largest).toBeGreaterThan(1)
    await store.close()

    const reopened = await Store.open({ path, meshId: 'mesh-1' })
    expect((await reopened.check()).ok).toBe(true)
    const order: number[] = []
    for await (const bytes of reopened.replay()) order.push(bytes[0]!)
    expect(order).toEqual(calls.map(e => e.seq % 251))
    await reopened.close()
  })

  it('a write resolves only after its own batch is written; a lone writer is not delayed', async () => {
    const written: string[][] = []
    let release: (() => void) | undefined
    const commits = new GroupCommit<{ id: string, sync: boolean }>(async (requests) => {
      await new Promise<void>(resolve => { release = resolve })
      written.push(requests.map(r => r.id))
    })
    const done: string[] = []
    const first = commits.submit({ id: 'a', sync: true }).then(() => { done.push('a') })
    await Promise.resolve()
    await Promise.resolve()
    expect(release).toBeDefined() // the first batch started without waiting for company
    const second = commits.submit({ id: 'b', sync: false }).then(() => { done.push('b') })
    const third = commits.submit({ id: 'c', sync: true }).then(() => { done.push('c') })
    release!()
    await first
    expect(done).toEqual(['a'])
    await new Promise(resolve => setImmediate(resolve))
    expect(done).toEqual(['a'])
    release!()
    await Promise.all([second, third])
    expect(written).toEqual([['a'], ['b', 'c']])
    expect(commits.stats).toEqual({ batches: 2, requests: 3, largest: 2 })
  })

  it('a failed batch rejects exactly its own writes; the next batch still goes', async () => {
    let fail = true
    const commits = new GroupCommit<{ id: string, sync: boolean }>(async () => {
      await Promise.resolve()
      if (fail) { fail = false; throw new Error('disk full') }
    })
    const a = commits.submit({ id: 'a', sync: true })
    await Promise.resolve()
    const b = commits.submit({ id: 'b', sync: true })
    await expect(a).rejects.toThrow('disk full')
    await expect(b).resolves.toBeUndefined()
  })
})

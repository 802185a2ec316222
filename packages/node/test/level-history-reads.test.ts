/**
 * The append path's store reads: a new entry (above its author's frontier) is accepted without
 * any point read of the store, while an entry the store already holds is still a duplicate and a
 * second entry at a stored seq is still an equivocation, kept out of the author/seq index.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import {
  createDag, createGenesis, execRequestBody, keyPairFromSecret, nextEntry, toHex, type Dag, type KeyPair,
  type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { LevelHistory } from '../src/level-history.js'
import { Store } from '../src/store.js'

const root = mkdtempSync(join(tmpdir(), 'govmesh-level-history-'))
afterAll(() => { rmSync(root, { recursive: true, force: true }) })

const key = (n: number): KeyPair => keyPairFromSecret(new Uint8Array(32).fill(n), nodeCrypto)
const gov = key(1)
const writer = key(2)
const genesis = createGenesis({
  governors: [gov.publicKey], members: [{ key: writer.publicKey, zone: 'a' }], time: 1000
}, gov, nodeCrypto)

const entry = (dag: Dag, n: number): SignedEntry => {
  const body = execRequestBody({ action: 'echo', resource: `r/${n}`, target: 'zone:a', nonce: `n${n}` })
  const e = nextEntry(dag, writer, { type: 'exec.request', body, time: 2000 + n }, nodeCrypto)
  dag.add(e, { verified: true })
  return e
}

/** A DAG on a level store, with a metadata cache of one entry so that lookups reach the store. */
async function diskDag (path: string): Promise<{ dag: Dag, store: Store, write: (ids: string[]) => Promise<void> }> {
  const ref: { store?: Store } = {}
  const history = new LevelHistory(() => ref.store, 1)
  const dag = createDag({ genesis, crypto: nodeCrypto, history })
  const store = ref.store = await Store.open({ path, meshId: genesis.id })
  const write = async (ids: string[]): Promise<void> => {
    await store.putAccepted(history.take(ids))
    history.written(ids)
  }
  await write([genesis.id])
  return { dag, store, write }
}

describe('store reads of the append path', () => {
  it('a new entry is accepted with no point read; a stored one is a duplicate; a twin is an equivocation', async () => {
    const { dag, store, write } = await diskDag(join(root, 'db1'))
    const source = createDag({ genesis, crypto: nodeCrypto })
    const chain = Array.from({ length: 5 }, (_, i) => entry(source, i))
    const metaReads = vi.spyOn(store, 'metaSync')
    const seqReads = vi.spyOn(store, 'atSync')
    for (const e of chain) {
      metaReads.mockClear()
      expect(dag.add(e.bytes).status).toBe('accepted')
      // At most its prev was looked up (the cache holds one entry); never the new entry itself, nor its slot.
      expect(metaReads.mock.calls.map(([id]) => id)).not.toContain(e.id)
      await write([e.id])
    }
    expect(seqReads).not.toHaveBeenCalled()

    // Offered again: still a duplicate (the core test dag-checkpoint covers the history lookup of a resumed DAG).
    expect(dag.add(chain[1]!.bytes).status).toBe('duplicate')

    // Another entry at stored seq 3 (signed on a replica that stopped at seq 2): an equivocation.
    const fork = createDag({ genesis, crypto: nodeCrypto })
    for (const e of chain.slice(0, 2)) fork.add(e, { verified: true })
    const twin = entry(fork, 99)
    expect(twin.entry.seq).toBe(3)
    const r = dag.add(twin.bytes)
    expect(r.status).toBe('accepted')
    expect(r.equivocations).toHaveLength(1)
    expect(seqReads).toHaveBeenCalled()
    await write([twin.id])
    // The author/seq index keeps the chain's entry, not the twin.
    expect(store.atSync(toHex(writer.publicKey), 3)).toBe(chain[2]!.id)
    expect(store.highestSeq(toHex(writer.publicKey))).toBe(5)
    await store.close()
  })
})

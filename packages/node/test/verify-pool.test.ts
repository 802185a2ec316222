/**
 * The verify pool marks an entry verified only when a thread really checked its signature
 * for exactly those bytes: tampered entries in any share of a batch stay unmarked and the
 * DAG then refuses them with the usual typed error.
 */
import { describe, expect, it } from 'vitest'
import {
  BadSignatureError, createDag, createGenesis, execRequestBody, keyPairFromSecret, nextEntry, type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
// The built package: its worker file is compiled JavaScript next to the pool.
import { VerifyPool } from '@govmesh/node'

const governor = keyPairFromSecret(new Uint8Array(32).fill(1), nodeCrypto)
const writer = keyPairFromSecret(new Uint8Array(32).fill(2), nodeCrypto)
const genesis = createGenesis(
  { governors: [governor.publicKey], members: [{ key: writer.publicKey, zone: 'a' }] }, governor, nodeCrypto
)

function chain (n: number): SignedEntry[] {
  const dag = createDag({ genesis: genesis.bytes, crypto: nodeCrypto })
  const out: SignedEntry[] = []
  for (let i = 0; i < n; i++) {
    const body = execRequestBody(
      { action: 'echo', resource: `r/${i}`, target: 'zone:a', payload: { i }, nonce: `n${i}` }
    )
    const e = nextEntry(dag, writer, { type: 'exec.request', body, time: 1_767_225_600_000 + i }, nodeCrypto)
    dag.add(e, { verified: true })
    out.push(e)
  }
  return out
}

describe('VerifyPool', () => {
  it('marks exactly the entries whose signatures verify, in the main and the worker shares', async () => {
    const entries = chain(300)
    const bytes = entries.map(e => e.bytes.slice())
    // One bad signature in the main thread's share (the first third), one in the worker's.
    const badSig = [10, 250]
    const SIG_FIELD = Buffer.from([0x63, 0x73, 0x69, 0x67, 0x58, 0x40]) // text "sig", bytes(64)
    for (const i of badSig) bytes[i]![Buffer.from(bytes[i]!).indexOf(SIG_FIELD) + SIG_FIELD.length + 5]! ^= 0x01
    const pool = new VerifyPool({ threads: 1, mainThreadShare: 1 / 3 })
    try {
      await pool.ready()
      const { items, verified } = await pool.verify(bytes)
      expect(pool.threads).toBe(1) // the worker ran (a failed worker is dropped)
      expect(items).toHaveLength(300)
      for (let i = 0; i < items.length; i++) {
        expect(verified.has(items[i]!), `entry ${i}`).toBe(!badSig.includes(i))
        if (!badSig.includes(i)) expect((items[i] as SignedEntry).id).toBe(entries[i]!.id)
      }
      // The DAG refuses the unmarked ones with the signature error, and accepts the rest unverified again.
      const dag = createDag({ genesis: genesis.bytes, crypto: nodeCrypto })
      const refused: number[] = []
      for (let i = 0; i < items.length; i++) {
        try {
          dag.add(items[i]!, { verified: verified.has(items[i]!) })
        } catch (err) {
          expect(err).toBeInstanceOf(BadSignatureError)
          refused.push(i)
        }
      }
      expect(refused).toEqual(badSig)
      expect(dag.size).toBe(1 + 10) // genesis and the chain up to the first bad entry; the rest wait for it
    } finally {
      await pool.close()
    }
  })

  it('by default the workers check the whole batch; each entry is marked for exactly its own bytes', async () => {
    const entries = chain(120)
    const bytes = entries.map(e => e.bytes.slice())
    const SIG_FIELD = Buffer.from([0x63, 0x73, 0x69, 0x67, 0x58, 0x40])
    bytes[3]![Buffer.from(bytes[3]!).indexOf(SIG_FIELD) + SIG_FIELD.length]! ^= 0x80
    const pool = new VerifyPool({ threads: 2 })
    try {
      await pool.ready()
      const { items, verified } = await pool.verify(bytes)
      expect(pool.threads).toBe(2)
      for (let i = 0; i < items.length; i++) {
        expect(verified.has(items[i]!), `entry ${i}`).toBe(i !== 3)
        if (i !== 3) expect((items[i] as SignedEntry).id).toBe(entries[i]!.id)
      }
      // The batch was copied for the workers: the caller's buffers are still its own.
      expect(bytes[0]!.length).toBe(entries[0]!.bytes.length)
      const again = await pool.verify(entries.slice(0, 40).map(e => e.bytes))
      expect(again.verified.size).toBe(40)
    } finally {
      await pool.close()
    }
  })

  it('sends nothing to a worker that is still loading: the batch goes back unmarked at once', async () => {
    const pool = new VerifyPool({ threads: 1 })
    try {
      const entries = chain(64)
      // Asked in the same turn as the worker was spawned: it cannot have loaded yet.
      const { items, verified } = await pool.verify(entries.map(e => e.bytes))
      expect(items).toHaveLength(64)
      expect(verified.size).toBe(0)
      await pool.ready()
      expect((await pool.verify(entries.map(e => e.bytes))).verified.size).toBe(64)
    } finally {
      await pool.close()
    }
  })

  it('starts no worker until a batch worth one arrives (an idle node holds no worker heap)', async () => {
    const pool = new VerifyPool({ threads: 1 })
    try {
      const entries = chain(64)
      expect(pool.threads).toBe(1)
      expect(pool.startedWorkers).toBe(0)
      // Below two worker slices a batch is verified where it is: no worker is needed for it.
      expect((await pool.verify(entries.slice(0, 20).map(e => e.bytes))).verified.size).toBe(0)
      expect(pool.startedWorkers).toBe(0)
      // The first large batch starts the worker; it goes back unmarked, as the worker is still loading.
      expect((await pool.verify(entries.map(e => e.bytes))).verified.size).toBe(0)
      expect(pool.startedWorkers).toBe(1)
      await pool.ready()
      expect((await pool.verify(entries.map(e => e.bytes))).verified.size).toBe(64)
    } finally {
      await pool.close()
    }
  })

  it('with no worker threads checks nothing and marks nothing', async () => {
    const pool = new VerifyPool({ threads: 0 })
    const { items, verified } = await pool.verify(chain(50).map(e => e.bytes))
    expect(items).toHaveLength(50)
    expect(verified.size).toBe(0)
    await pool.close()
  })
})

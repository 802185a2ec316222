/**
 * Issue 11: gossip and sync deliver the same entry several times, and each copy was decoded and
 * its signature checked again before the DAG noticed it held the bytes. The id is the hash of
 * the bytes, so a copy costs one hash now; its result is unchanged.
 */
import { describe, expect, it } from 'vitest'
import {
  createDag, createGenesis, execRequestBody, keyPairFromSecret, nextEntry, type CryptoProvider, type KeyPair
} from '../src/index.js'
import { nodeCrypto } from '../src/node-crypto.js'

const key = (n: number): KeyPair => keyPairFromSecret(new Uint8Array(32).fill(n))
const gov = key(1)
const a = key(2)
const genesis = createGenesis({ governors: [gov.publicKey], members: [{ key: a.publicKey, zone: 'a' }], time: 1 }, gov)

function countingCrypto (): { crypto: CryptoProvider, verifies: () => number } {
  let n = 0
  return {
    crypto: { ...nodeCrypto, name: 'counting', verify: (s, m, k) => { n++; return nodeCrypto.verify(s, m, k) } },
    verifies: () => n
  }
}

const body = (i: number): ReturnType<typeof execRequestBody> =>
  execRequestBody({ action: 'echo', resource: `r/${i}`, target: 'zone:a', nonce: `n${i}`, payload: { i } })

describe('dag: copies of held entries', () => {
  it('an accepted entry delivered again is a duplicate without a second signature check', () => {
    const source = createDag({ genesis, crypto: nodeCrypto })
    const e1 = nextEntry(source, a, { type: 'exec.request', body: body(1) }, nodeCrypto)
    source.add(e1, { verified: true })
    const { crypto, verifies } = countingCrypto()
    const dag = createDag({ genesis, crypto })
    expect(dag.add(e1.bytes).status).toBe('accepted')
    const after = verifies()
    expect(after).toBeGreaterThan(0)
    for (let i = 0; i < 3; i++) expect(dag.add(e1.bytes.slice()).status).toBe('duplicate')
    expect(verifies()).toBe(after)
  })

  it('a pending entry delivered again stays pending, naming what it misses, without a second check', () => {
    const source = createDag({ genesis, crypto: nodeCrypto })
    const e1 = nextEntry(source, a, { type: 'exec.request', body: body(1) }, nodeCrypto)
    source.add(e1, { verified: true })
    const e2 = nextEntry(source, a, { type: 'exec.request', body: body(2) }, nodeCrypto)
    source.add(e2, { verified: true })
    const { crypto, verifies } = countingCrypto()
    const dag = createDag({ genesis, crypto })
    const first = dag.add(e2.bytes)
    expect(first.status).toBe('pending')
    const after = verifies()
    const again = dag.add(e2.bytes)
    expect(again).toMatchObject({ status: 'pending', id: e2.id, missing: first.missing })
    expect(verifies()).toBe(after)
    // Its parent arrives: both are accepted, and a later copy of either is a duplicate.
    const released = dag.add(e1.bytes)
    expect(released.accepted.map(e => e.id)).toEqual([e1.id, e2.id])
    expect(dag.add(e2.bytes).status).toBe('duplicate')
  })

  it('a copy with one flipped byte is a new input, judged in full', () => {
    const source = createDag({ genesis, crypto: nodeCrypto })
    const e1 = nextEntry(source, a, { type: 'exec.request', body: body(1) }, nodeCrypto)
    const dag = createDag({ genesis, crypto: nodeCrypto })
    dag.add(e1.bytes)
    const forged = e1.bytes.slice()
    forged[forged.length - 1] = forged[forged.length - 1]! ^ 1
    expect(() => dag.add(forged)).toThrow()
  })
})

/**
 * A responder's first sync batches are small and grow: a fresh node starts checking entries while
 * the responder still reads the rest, instead of waiting for a full batch of 500 to be read first.
 * Every entry still arrives, in causal order.
 */
import { describe, expect, it } from 'vitest'
import { createDag, createGenesis, execRequestBody, keyPairFromSecret, nextEntry } from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { SimHub } from './sim/hub.js'
import { startSimNode } from './sim/sim-node.js'

const governor = keyPairFromSecret(new Uint8Array(32).fill(1), nodeCrypto)
const a = keyPairFromSecret(new Uint8Array(32).fill(2), nodeCrypto)
const b = keyPairFromSecret(new Uint8Array(32).fill(3), nodeCrypto)
const genesis = createGenesis(
  { governors: [governor.publicKey], members: [a, b].map(k => ({ key: k.publicKey, zone: 'a' })) }, governor, nodeCrypto
)

describe('sync batches', () => {
  it('start at 50 entries and double up to 500; all 1,200 entries arrive in causal order', async () => {
    const mirror = createDag({ genesis: genesis.bytes, crypto: nodeCrypto })
    const entries = Array.from({ length: 1200 }, (_, i) => {
      const body = execRequestBody({ action: 'echo', resource: `r/${i}`, target: 'zone:a', payload: { i }, nonce: `${i}` })
      const e = nextEntry(mirror, a, { type: 'exec.request', body, time: 1_767_225_600_000 + i }, nodeCrypto)
      mirror.add(e, { verified: true })
      return e
    })
    const hub = new SimHub({ seed: 7 })
    const source = await startSimNode(hub, genesis, a, nodeCrypto)
    const fresh = await startSimNode(hub, genesis, b, nodeCrypto)
    try {
      await source.ledger.ingest(entries.map(e => e.bytes), 'api')
      // One ingest call per received batch emits its entries in one synchronous run: group them so.
      const batches: number[] = []
      const seqs: number[] = []
      let open = false
      fresh.events.on('entry:added', (e) => {
        seqs.push(e.seq)
        if (!open) {
          open = true
          batches.push(0)
          queueMicrotask(() => { open = false })
        }
        batches[batches.length - 1]!++
      })
      await fresh.services.sync.withPeer(source.ledger.peerId)
      expect(fresh.ledger.dag.size).toBe(1201)
      expect(seqs).toEqual(entries.map(e => e.entry.seq))
      expect(batches).toEqual([50, 100, 200, 400, 450])
    } finally {
      await fresh.stop()
      await source.stop()
    }
  })
})

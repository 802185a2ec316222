/**
 * Issue 10, 50 nodes: while a large testnet started, members whose gossip meshes were still forming
 * missed a joiner's announcement and its repeat 1.5 s later, and first heard it at its keep-alive
 * (`staleMs / 2`, 75 s at 50 nodes): the testnet took 186-196 s to be all trusted. A joiner now
 * announces itself again 5 and 15 s after its first member connected (PROTOCOL.md §19.1), and then
 * is quiet until its keep-alive.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createDag, createGenesis, keyPairFromSecret, type KeyPair } from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { CONNECT_REANNOUNCE_MS } from '../src/constants.js'
import { NodeEventBus } from '../src/events.js'
import { silentLogger } from '../src/logger.js'
import { NodeMetrics } from '../src/metrics.js'
import type { MeshNetwork } from '../src/network.js'
import { HeartbeatService, type HeartbeatComponents } from '../src/services/heartbeat.js'

const key = (n: number): KeyPair => keyPairFromSecret(new Uint8Array(32).fill(n))
const gov = key(1)
const self = key(2)
const genesis = createGenesis({
  governors: [gov.publicKey], members: [{ key: self.publicKey, zone: 'a' }], time: 1
}, gov, nodeCrypto)

afterEach(() => { vi.useRealTimers() })

describe('heartbeats of a joiner', () => {
  it('announces itself on its first member connection, 1.5, 5 and 15 s later, then only keep-alives', async () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const published: number[] = []
    let connect: ((peer: string) => void) | undefined
    const network = {
      subscribe: () => {},
      handle: async () => {},
      publish: async () => { published.push(Date.now()) },
      addrs: () => [],
      connectedPeers: () => ['peer-1'],
      onPeerConnect: (fn: (peer: string) => void) => { connect = fn },
      openStream: async () => { throw new Error('no streams in this test') }
    } as unknown as MeshNetwork
    const dag = createDag({ genesis, crypto: nodeCrypto })
    // A 50-node testnet's timing: a stale window of 150 s, so a keep-alive every 75 s.
    const policy = {
      document: () => ({ timing: { heartbeatMs: 1_000, staleMs: 150_000, driftGraceMs: 5_000 } }),
      digest: () => 'ab'.repeat(32)
    } as unknown as HeartbeatComponents['policy']
    const service = new HeartbeatService({ topic: 'hb', meshId: dag.meshIdString, measurement: '00'.repeat(32) }, {
      crypto: nodeCrypto, keys: self, dag, policy, network,
      isMember: () => true, isMemberPeer: () => true, peers: {} as HeartbeatComponents['peers'],
      streams: {} as HeartbeatComponents['streams'], reporter: {} as HeartbeatComponents['reporter'],
      sync: () => {}, dial: () => {}, onAccepted: () => {}, metrics: new NodeMetrics(), events: new NodeEventBus(),
      logger: silentLogger
    })
    await service.start()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(published).toHaveLength(1) // the first heartbeat, 50 ms after start
    published.length = 0
    const connectedAt = Date.now()
    connect!('peer-1')
    await vi.advanceTimersByTimeAsync(20_000)
    const after = published.map(t => t - connectedAt)
    expect(CONNECT_REANNOUNCE_MS).toEqual([1_500, 5_000, 15_000])
    // At once (as soon as heartbeatMs after the first allows: 50 ms here), then at each repeat.
    expect(after).toHaveLength(4)
    ;[0, 1_500, 5_000, 15_000].forEach((at, i) => {
      expect(after[i]).toBeGreaterThanOrEqual(at)
      expect(after[i]).toBeLessThanOrEqual(at + 60)
    })
    // Nothing more until the keep-alive, staleMs / 2 after the last one.
    await vi.advanceTimersByTimeAsync(75_000 - 5_000 - 100)
    expect(published).toHaveLength(4)
    await vi.advanceTimersByTimeAsync(200)
    expect(published).toHaveLength(5)
    service.stop()
  })
})

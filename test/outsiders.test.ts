import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@govmesh/core'
import { createMeshLibp2p, type MeshLibp2p } from '@govmesh/node'
import { admitMember, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'
import { metricSum } from './helpers/metrics.js'

const OUTSIDERS = 90
// Under libp2p's default per-host inbound rate (5/s) so that every outsider gets its handshake in.
const DIAL_EVERY_MS = 250

/**
 * Finding 6 of issue 8: fresh non-member identities filled a node's 64 connections and held them,
 * so a member started afterwards could not connect and never synced.
 */
describe('connections are for members: outsiders cannot starve them', () => {
  const mesh = new TestMesh()
  const outsiders: MeshLibp2p[] = []
  let n1: NodeHandle
  let n2: NodeHandle
  let flood: Promise<void> | undefined
  let stopFlood = false

  /** Starts a member bootstrapping from the flooded node; it must connect and hold all of its entries. */
  async function joinsAndSyncs (node: NodeHandle, who: string): Promise<void> {
    await mesh.start(node, { bootstrap: [n1] })
    const want = (await mesh.status(n1)).entries
    await waitFor(`${who} to connect and sync`, async () => {
      const s = await mesh.status(node)
      return s.peers > 0 && s.entries >= want
    }, 20_000)
  }

  beforeAll(async () => {
    await mesh.create({ nodes: 2 })
    ;[n1, n2] = mesh.nodes as [NodeHandle, NodeHandle]
    await mesh.start(n1)
    for (let i = 0; i < 5; i++) {
      const res = await mesh.post(n1, '/v1/exec', { action: 'echo', resource: `r/${i}`, target: n1.peerId })
      expect(res.status).toBe(200)
    }
  })
  afterAll(async () => {
    stopFlood = true
    await flood
    await Promise.all(outsiders.map(async p => { await p.stop() }))
    await mesh.cleanup()
  })

  it('90 outsider identities dialing a node while members join: the members connect and sync', async () => {
    const target = multiaddr(n1.addrs[0])
    // Each outsider dials once and holds whatever connection it gets.
    flood = (async () => {
      for (let i = 0; i < OUTSIDERS && !stopFlood; i++) {
        const p = await createMeshLibp2p({ seed: generateKeyPair().secretKey, signMessages: false })
        outsiders.push(p)
        void p.dial(target).catch(() => {})
        await new Promise(resolve => setTimeout(resolve, DIAL_EVERY_MS))
      }
    })()
    await waitFor('most outsiders to have dialed', () => outsiders.length >= OUTSIDERS * 0.8, 60_000)

    // A genesis member starts mid-flood and bootstraps from the flooded node.
    await joinsAndSyncs(n2, 'the genesis member')

    // A newly admitted member joins by bootstrap too: the admit reached the node before it dials.
    const n3 = await mesh.initNode()
    await admitMember(mesh, n1, n3.keys, 'a')
    await joinsAndSyncs(n3, 'the admitted member')
    await flood

    // Outsiders hold no slot: the node's peers are its members, and every refusal was counted.
    const peers = await mesh.get<{ peers: Array<{ peerId: string, connected: boolean }> }>(n1, '/v1/peers')
    const connected = peers.peers.filter(p => p.connected).map(p => p.peerId).sort()
    expect(connected).toEqual([n2.peerId, n3.peerId].sort())
    expect(outsiders.every(p => p.getConnections().every(c => c.remotePeer.toString() !== n1.peerId))).toBe(true)
    const refused = metricSum(await mesh.metrics(n1), 'govmesh_outsider_connections_refused_total')
    expect(refused).toBeGreaterThanOrEqual(OUTSIDERS * 0.8)
  })
})

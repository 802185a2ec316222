import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { keepAliveMs } from '@govmesh/core'
import { TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'
import { metricSum } from './helpers/metrics.js'

interface TrustJson { peers: Array<{ peerId: string, status: string }> }

// Issue 10: with a slow keep-alive (large testnets), a member that joins an idle mesh knows who is
// alive at once: its first member peer hands it the heartbeats it recorded (PROTOCOL §19.4). Before,
// it waited for every other member's next keep-alive, here a minute away.
describe('a joiner learns who is alive from its first member peer', () => {
  const timing = { heartbeatMs: 300, staleMs: 120_000, driftGraceMs: 1500 }
  const mesh = new TestMesh()
  let nodes: NodeHandle[]

  const statusAt = async (at: NodeHandle, subject: NodeHandle): Promise<string | undefined> =>
    (await mesh.get<TrustJson>(at, '/v1/trust')).peers.find(p => p.peerId === subject.peerId)?.status
  const trusts = async (at: NodeHandle, subjects: NodeHandle[]): Promise<boolean> => {
    for (const s of subjects) if (await statusAt(at, s) !== 'trusted') return false
    return true
  }

  beforeAll(async () => {
    await mesh.create({
      nodes: 3,
      policy: { rules: [{ id: 'echo-local', effect: 'allow', principals: ['local'], actions: ['echo'] }], timing }
    })
    nodes = mesh.nodes
    await mesh.start(nodes[0]!)
    await mesh.start(nodes[1]!, { bootstrap: [nodes[0]!] })
    await waitFor('the first two trust each other', async () =>
      await trusts(nodes[0]!, [nodes[1]!]) && await trusts(nodes[1]!, [nodes[0]!]), 30_000, 100)
  }, 60_000)
  afterAll(async () => { await mesh.cleanup() })

  it('trusts every member well before their next keep-alive', async () => {
    expect(keepAliveMs(timing)).toBe(60_000)
    const joiner = nodes[2]!
    const handedTo = async (n: NodeHandle): Promise<number> => metricSum(
      await mesh.metrics(n), 'govmesh_gossip_messages_total', { topic: 'heartbeats-latest', result: 'accepted' }
    )
    const firstMemberBefore = await handedTo(nodes[0]!)
    const membersSpokeBy = Date.now()
    await mesh.start(joiner, { bootstrap: [nodes[0]!] })
    await waitFor('the joiner trusting both members', async () => await trusts(joiner, nodes.slice(0, 2)), 30_000, 100)
    // Both members last spoke before the joiner started: their next keep-alive was still far off.
    expect(Date.now() - membersSpokeBy).toBeLessThan(keepAliveMs(timing) - 5000)
    // It heard the member it is not connected to first from the hand-over, not from gossip.
    const handedOver = metricSum(
      await mesh.metrics(joiner), 'govmesh_gossip_messages_total', { topic: 'heartbeats-latest', result: 'accepted' }
    )
    expect(handedOver).toBeGreaterThanOrEqual(1)
    // And the members trust the joiner: the first member from the joiner's own heartbeat in its request
    // (it is not news to that member, which does not ask), the other from the joiner's announcement.
    for (const member of nodes.slice(0, 2)) {
      await waitFor('a member trusting the joiner', async () => await trusts(member, [joiner]), 10_000, 100)
    }
    expect(await handedTo(nodes[0]!)).toBe(firstMemberBefore + 1)
  }, 90_000)
})

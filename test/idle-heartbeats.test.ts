import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { keepAliveMs } from '@govmesh/core'
import { TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'
import { metricSum } from './helpers/metrics.js'

interface TrustJson { peers: Array<{ peerId: string, status: string }> }

// Issue 10: an idle mesh sends keep-alives, not a heartbeat per member every heartbeatMs, and
// staleness keeps its guarantee: a member that goes silent is stale once staleMs passed.
describe('heartbeats in an idle mesh', () => {
  const timing = { heartbeatMs: 300, staleMs: 2000, driftGraceMs: 1500 }
  const keepAlive = keepAliveMs(timing)
  const mesh = new TestMesh()
  let nodes: NodeHandle[]

  const statusAt = async (at: NodeHandle, subject: NodeHandle): Promise<string | undefined> =>
    (await mesh.get<TrustJson>(at, '/v1/trust')).peers.find(p => p.peerId === subject.peerId)?.status
  const everyoneTrusted = async (): Promise<boolean> => {
    for (const at of nodes) {
      for (const subject of nodes) if (subject !== at && await statusAt(at, subject) !== 'trusted') return false
    }
    return true
  }
  const heartbeatsAccepted = async (at: NodeHandle): Promise<number> =>
    metricSum(await mesh.metrics(at), 'govmesh_gossip_messages_total', { topic: 'heartbeats', result: 'accepted' })

  beforeAll(async () => {
    await mesh.create({
      nodes: 3,
      policy: { rules: [{ id: 'echo-local', effect: 'allow', principals: ['local'], actions: ['echo'] }], timing }
    })
    nodes = mesh.nodes
    await mesh.start(nodes[0]!)
    await Promise.all(nodes.slice(1).map(async n => await mesh.start(n, { bootstrap: [nodes[0]!] })))
    await waitFor('every node trusted by every other', everyoneTrusted, 60_000, 100)
  }, 120_000)
  afterAll(async () => {
    for (const n of nodes) n.proc?.kill('SIGCONT')
    await mesh.cleanup()
  })

  it('while nothing changes, members send only keep-alives, and stay trusted throughout', async () => {
    const windowMs = 5000
    const before = await heartbeatsAccepted(nodes[0]!)
    const start = Date.now()
    while (Date.now() - start < windowMs) {
      expect(await everyoneTrusted(), `at ${Date.now() - start} ms`).toBe(true)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    const received = await heartbeatsAccepted(nodes[0]!) - before
    // Two peers, one keep-alive each per keepAlive (1000 ms), one more each for the window's edges;
    // one heartbeat per heartbeatMs would be about 33.
    expect(received).toBeGreaterThanOrEqual(2 * (windowMs / keepAlive - 1))
    expect(received).toBeLessThanOrEqual(2 * (windowMs / keepAlive + 1))
  })

  it('a node that goes silent while nothing else changes is reported stale', async () => {
    const silent = nodes[2]!
    const observers = nodes.slice(0, 2)
    // SIGSTOP: the process and its connections stay, only its heartbeats stop.
    silent.proc!.kill('SIGSTOP')
    const stoppedAt = Date.now()
    await waitFor('the silent node stale everywhere', async () => {
      const seen = await Promise.all(observers.map(async o => await statusAt(o, silent)))
      return seen.every(s => s === 'stale')
    }, timing.staleMs + 10_000, 50)
    const elapsed = Date.now() - stoppedAt
    // Its last keep-alive left at most keepAlive before the stop; stale comes staleMs after it arrived.
    expect(elapsed).toBeGreaterThanOrEqual(timing.staleMs - keepAlive - 100)
    expect(elapsed).toBeLessThanOrEqual(timing.staleMs + 3000)
    for (const o of observers) expect(await statusAt(o, nodes[o === nodes[0] ? 1 : 0]!)).toBe('trusted')

    silent.proc!.kill('SIGCONT')
    await waitFor('the node trusted again once it speaks', everyoneTrusted, keepAlive + 10_000, 100)
  })
})

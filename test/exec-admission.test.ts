import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import * as dagCbor from '@ipld/dag-cbor'
import {
  decodeEntry, decodeGossipBatch, encodeHeartbeat, generateKeyPair, headsHash, isGossipBatch, type KeyPair
} from '@govmesh/core'
import {
  createMeshLibp2p, entriesTopic, EXEC_PROTOCOL, FramedStream, heartbeatsTopic, type MeshLibp2p
} from '@govmesh/node'
import { MemberWriter, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'
import { metricSum } from './helpers/metrics.js'

interface WireAnswer { ok: boolean, reason?: string, entries?: Uint8Array[] }

/**
 * Finding 5 of issue 8: the exec protocol served non-members and signed an `exec.refuse` for every
 * replayed request; a replayed forward frame was executed again.
 */
describe('exec protocol admission: trusted members only, replays refused without writing', () => {
  const mesh = new TestMesh()
  const spy = new MemberWriter()
  const peers: MeshLibp2p[] = []
  const captured: Uint8Array[] = []
  let n1: NodeHandle
  let n2: NodeHandle
  let spyNode: MeshLibp2p

  async function libp2pAs (keys: KeyPair): Promise<MeshLibp2p> {
    const p = await createMeshLibp2p({ seed: keys.secretKey, signMessages: false })
    peers.push(p)
    return p
  }

  /** Opens the exec protocol to n1 and sends one frame; the answer, or undefined when the node hangs up. */
  async function sendFrame (from: MeshLibp2p, frame: unknown): Promise<WireAnswer | undefined> {
    try {
      const conn = from.getConnections().find(c => c.remotePeer.toString() === n1.peerId && c.status === 'open') ??
        await from.dial(multiaddr(n1.addrs[0]))
      const framed = new FramedStream(await conn.newStream(EXEC_PROTOCOL), { readTimeoutMs: 5000 })
      await framed.write(dagCbor.encode(frame))
      await framed.closeWrite()
      const bytes = await framed.read()
      await framed.close().catch(() => {})
      return bytes === undefined ? undefined : dagCbor.decode<WireAnswer>(bytes)
    } catch {
      return undefined
    }
  }

  const entries = async (): Promise<number> => (await mesh.status(n1)).entries

  beforeAll(async () => {
    await mesh.create({ nodes: 2, extraMembers: [{ keys: spy.keys, zone: 'a' }] })
    spy.open(mesh.genesisPath)
    ;[n1, n2] = mesh.nodes as [NodeHandle, NodeHandle]
    await mesh.start(n1)
    await mesh.start(n2, { bootstrap: [n1] })
    await waitFor('n2 to connect', async () => (await mesh.status(n2)).peers > 0)
    // A member key held by the test listens to gossip, as any member would, and captures requests.
    spyNode = await libp2pAs(spy.keys)
    spyNode.services.pubsub.subscribe(entriesTopic(mesh.meshId))
    spyNode.services.pubsub.addEventListener('message', (evt) => {
      if (evt.detail.topic !== entriesTopic(mesh.meshId)) return
      // Execution records may arrive as one entry or inside a batch message (PROTOCOL.md §18.2).
      const data = evt.detail.data
      for (const bytes of isGossipBatch(data) ? decodeGossipBatch(data) : [data]) {
        if (decodeEntry(bytes, { verify: false }).entry.type === 'exec.request') captured.push(bytes)
      }
    })
    await spyNode.dial(multiaddr(n1.addrs[0]))
    const topic = entriesTopic(mesh.meshId)
    await waitFor('spy in the gossip mesh', () => spyNode.services.pubsub.getSubscribers(topic).length > 0)
    const res = await mesh.post(n1, '/v1/exec', { action: 'echo', resource: 'r/1', target: n2.peerId })
    expect(res.status).toBe(200)
    await waitFor('a captured exec.request', () => captured.length > 0)
  })
  afterAll(async () => {
    for (const p of peers) await p.stop()
    await mesh.cleanup()
  })

  it('a non-member replaying captured requests writes nothing and is counted', async () => {
    const outsider = await libp2pAs(generateKeyPair())
    const before = await entries()
    const answers: Array<WireAnswer | undefined> = []
    const replay = { t: 'exec', lineage: [captured[0]!], rest: [], hop: 1 }
    for (let i = 0; i < 20; i++) answers.push(await sendFrame(outsider, replay))
    expect(answers.every(a => a === undefined || (a.ok === false && (a.entries ?? []).length === 0))).toBe(true)
    await waitFor('the refusals to be counted', async () => {
      const m = await mesh.metrics(n1)
      return metricSum(m, 'govmesh_outsider_connections_refused_total') +
        metricSum(m, 'govmesh_streams_refused_total', { protocol: 'exec' }) >= 1
    })
    // Nothing was signed for them, here or anywhere.
    expect(await entries()).toBe(before)
  })

  it('an untrusted member (no heartbeat: stale) is refused without an entry', async () => {
    const before = await entries()
    const untrusted = { protocol: 'exec', reason: 'untrusted' }
    const prior = metricSum(await mesh.metrics(n1), 'govmesh_streams_refused_total', untrusted)
    for (let i = 0; i < 10; i++) {
      const a = await sendFrame(spyNode, { t: 'exec', lineage: [captured[0]!], rest: [], hop: 1 })
      expect(a === undefined || (a.ok === false && (a.entries ?? []).length === 0)).toBe(true)
    }
    expect(await entries()).toBe(before)
    const after = metricSum(await mesh.metrics(n1), 'govmesh_streams_refused_total', untrusted)
    expect(after - prior).toBe(10)
  })

  it('a trusted member\'s forward frame runs once; the same frame replayed is refused and writes nothing', async () => {
    const status = await mesh.status(n1)
    const beat = setInterval(() => {
      const hb = encodeHeartbeat({
        measurement: '00'.repeat(32), policyDigest: status.policyDigest, entries: 1, headsHash: headsHash([]),
        addrs: [], time: Date.now()
      }, spy.keys)
      void spyNode.services.pubsub.publish(heartbeatsTopic(mesh.meshId), hb).catch(() => {})
    }, 200)
    try {
      spyNode.services.pubsub.subscribe(heartbeatsTopic(mesh.meshId))
      await waitFor('n1 to trust the spy', async () => {
        const trust = await mesh.get<{ peers: Array<{ peerId: string, status: string }> }>(n1, '/v1/trust')
        return trust.peers.find(p => p.peerId === spy.peerId)?.status === 'trusted'
      })
      const [request] = spy.next(1)
      const frame = { t: 'exec', lineage: [request!.bytes], rest: [], hop: 1 }
      const first = await sendFrame(spyNode, frame)
      expect(first?.ok).toBe(true)
      const before = await entries()
      const replays = { protocol: 'exec', reason: 'replay' }
      const prior = metricSum(await mesh.metrics(n1), 'govmesh_streams_refused_total', replays)
      const replayed = await sendFrame(spyNode, frame)
      expect(replayed === undefined || (replayed.ok === false && (replayed.entries ?? []).length === 0)).toBe(true)
      expect(await entries()).toBe(before)
      expect(metricSum(await mesh.metrics(n1), 'govmesh_streams_refused_total', replays) - prior).toBe(1)
    } finally {
      clearInterval(beat)
    }
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import * as dagCbor from '@ipld/dag-cbor'
import { encodeEntry, execRequestBody, nobleCrypto, signingBytes, toBase64, CID, type KeyPair } from '@govmesh/core'
import { createMeshLibp2p, entriesTopic, FramedStream, SYNC_PROTOCOL, type MeshLibp2p } from '@govmesh/node'
import { MemberWriter, TestMesh, waitFor, type NodeHandle } from './helpers/cluster.js'

/** Sum of govmesh_rejections_total samples matching a reason (and optional source). */
function rejections (metrics: string, reason: string, source?: string): number {
  let total = 0
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('govmesh_rejections_total{')) continue
    if (!line.includes(`reason="${reason}"`)) continue
    if (source !== undefined && !line.includes(`source="${source}"`)) continue
    total += Number(line.split(' ').pop())
  }
  return total
}

describe('hostile input is rejected, counted, and the node keeps serving', () => {
  const mesh = new TestMesh()
  const member = new MemberWriter()
  const outsider = new MemberWriter()
  let n1: NodeHandle
  const peers: MeshLibp2p[] = []

  async function peerAs (keys: KeyPair): Promise<MeshLibp2p> {
    const p = await createMeshLibp2p({ seed: keys.secretKey, bootstrap: [n1.addrs[0]!], signMessages: false })
    peers.push(p)
    await waitFor('hostile peer to connect', () => p.getPeers().length > 0)
    return p
  }

  beforeAll(async () => {
    await mesh.create({ nodes: 1, extraMembers: [{ keys: member.keys, zone: 'a' }] })
    member.open(mesh.genesisPath)
    outsider.open(mesh.genesisPath)
    ;[n1] = mesh.nodes as [NodeHandle]
    await mesh.start(n1)
  })
  afterAll(async () => {
    for (const p of peers) await p.stop()
    await mesh.cleanup()
  })

  it('API: missing or wrong token, invalid JSON, wrong shapes and bad entries get 4xx with a reason', async () => {
    const [good] = member.next(1)
    const noToken = await mesh.post(n1, '/v1/entries', { entry: toBase64(good!.bytes) }, null)
    expect(noToken.status).toBe(401)
    const wrongToken = await mesh.post(n1, '/v1/entries', { entry: toBase64(good!.bytes) }, 'not-the-token')
    expect(wrongToken.status).toBe(401)
    const badJson = await mesh.post(n1, '/v1/entries', '{"entry": ')
    expect(badJson.status).toBe(400)
    const unknownField = await mesh.post(n1, '/v1/entries', { entry: toBase64(good!.bytes), extra: 1 })
    expect(unknownField.status).toBe(400)
    expect(unknownField.body.message).toMatch(/body\/extra/)
    const wrongType = await mesh.post(n1, '/v1/entries', { entry: 42 })
    expect(wrongType.status).toBe(400)
    expect(wrongType.body.message).toMatch(/body\/entry/)
    const garbage = await mesh.post(n1, '/v1/entries', { entry: toBase64(new Uint8Array([1, 2, 3])) })
    expect(garbage.status).toBe(422)
    expect(garbage.body.results[0].reason).toBe('entry.malformed')
    const forged = Uint8Array.from(good!.bytes)
    forged[forged.length - 1] = forged[forged.length - 1]! ^ 0xff
    const forgedRes = await mesh.post(n1, '/v1/entries', { entry: toBase64(forged) })
    expect(forgedRes.status).toBe(422)
    expect(forgedRes.body.results[0].reason).toMatch(/entry\.(bad-signature|malformed|non-canonical)/)
    const joinBad = await mesh.post(n1, '/v1/join', { addr: 'x' })
    expect(joinBad.status).toBe(400)
    expect(joinBad.body.message).toMatch(/multiaddr/)
    const huge = await mesh.post(n1, '/v1/entries', { entry: 'A'.repeat(2 * 1024 * 1024) })
    expect(huge.status).toBe(413)
    // The acknowledged good write still lands, and everything was counted.
    expect((await mesh.post(n1, '/v1/entries', { entry: toBase64(good!.bytes) })).status).toBe(200)
    const metrics = await mesh.metrics(n1)
    expect(rejections(metrics, 'api.401', 'api')).toBeGreaterThanOrEqual(2)
    expect(rejections(metrics, 'api.400', 'api')).toBeGreaterThanOrEqual(4)
    expect(rejections(metrics, 'entry.malformed', 'api')).toBeGreaterThanOrEqual(1)
  })

  it('gossip: garbage, forged and oversized entries from a member, and anything from a non-member, are rejected', async () => {
    const p = await peerAs(member.keys)
    const topic = entriesTopic(mesh.meshId)
    p.services.pubsub.subscribe(topic)
    await waitFor('gossip mesh with the node', () => p.services.pubsub.getSubscribers(topic).length > 0)
    const [valid] = member.next(1)
    const forged = Uint8Array.from(valid!.bytes)
    forged[forged.length - 1] = forged[forged.length - 1]! ^ 0xff
    const oversized = createEntryOfSize(member, 300 * 1024)
    await p.services.pubsub.publish(topic, new TextEncoder().encode('garbage'))
    await p.services.pubsub.publish(topic, forged)
    await p.services.pubsub.publish(topic, oversized)
    await p.services.pubsub.publish(topic, valid!.bytes)
    await waitFor(
      'valid gossip entry to be accepted',
      async () => (await fetch(`${n1.api!}/v1/dag/entries/${valid!.id}`)).status === 200
    )
    await waitFor('gossip rejections to be counted', async () => {
      const m = await mesh.metrics(n1)
      return rejections(m, 'entry.malformed', 'gossip') >= 1 && rejections(m, 'entry.too-large', 'gossip') >= 1 &&
        rejections(m, 'entry.bad-signature', 'gossip') >= 1
    })

    // A non-member cannot even connect to gossip: the node hangs up after the handshake and counts it.
    const stranger = await createMeshLibp2p({ seed: outsider.keys.secretKey, signMessages: false })
    peers.push(stranger)
    // The dialer may see its connection open for a moment: the node hangs up during the upgrade.
    await stranger.dial(multiaddr(n1.addrs[0])).catch(() => undefined)
    await waitFor('the refused outsider to be counted', async () =>
      /govmesh_outsider_connections_refused_total\{[^}]*reason="not-member"[^}]*\} [1-9]/.test(await mesh.metrics(n1)))
    await waitFor('the outsider to hold no connection', () => stranger.getConnections().length === 0)
    expect((await mesh.status(n1)).peers).toBe(1)
  })

  it('sync: malformed frames end the stream with a reason; non-members get no data', async () => {
    const p = peers[0] ?? await peerAs(member.keys)
    const conn = p.getConnections().find(
      c => c.remotePeer.toString() === n1.peerId
    ) ?? await p.dial(multiaddr(n1.addrs[0]))
    const before = rejections(await mesh.metrics(n1), 'sync.protocol')
    const stream = await conn.newStream(SYNC_PROTOCOL)
    const framed = new FramedStream(stream, { readTimeoutMs: 5000 })
    await framed.write(dagCbor.encode({ t: 'nonsense', x: 1 }))
    await expect(framed.read()).rejects.toThrow()
    await waitFor(
      'malformed sync to be counted', async () => rejections(await mesh.metrics(n1), 'sync.protocol') > before
    )

    // A non-member gets nothing: the node ends the stream before or after the frontier arrives.
    const stranger = peers[1]!
    let got: Uint8Array | undefined
    try {
      const sconn = stranger.getConnections().find(
        c => c.remotePeer.toString() === n1.peerId
      ) ?? await stranger.dial(multiaddr(n1.addrs[0]))
      const sframed = new FramedStream(await sconn.newStream(SYNC_PROTOCOL), { readTimeoutMs: 5000 })
      await sframed.write(dagCbor.encode({ t: 'frontier', mesh: mesh.meshId, frontier: {} }))
      got = await sframed.read()
    } catch {
      got = undefined
    }
    expect(got).toBeUndefined()

    // Still serving, with every acknowledged entry.
    const status = await mesh.status(n1)
    expect(status.entries).toBeGreaterThanOrEqual(3)
  })
})

/** A correctly signed entry over the size limit (createEntry refuses to make one). */
function createEntryOfSize (writer: MemberWriter, size: number): Uint8Array {
  const mesh = CID.parse(writer.meshId())
  const unsigned = {
    v: 1 as const, mesh, author: writer.keys.publicKey, seq: 999_999, prev: mesh, parents: [],
    type: 'exec.request' as const, body: execRequestBody(
      { action: 'echo', resource: 'r', target: 'zone:a', payload: { pad: new Uint8Array(size) } }
    ), time: Date.now()
  }
  const sig = nobleCrypto.sign(signingBytes(unsigned), writer.keys.secretKey)
  return encodeEntry({ ...unsigned, sig })
}

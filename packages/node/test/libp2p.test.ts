import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { TopicValidatorResult } from '@libp2p/interface'
import { createMeshLibp2p, IDONTWANT_MIN_BYTES, peerIdFromSeed } from '../src/libp2p.js'
import type { MeshLibp2p } from '../src/libp2p.js'
import { FramedStream, FrameTooLargeError, ReadTimeoutError } from '../src/framing.js'

const TOPIC = 'govmesh/test'
const PROTOCOL = '/govmesh/test/1.0.0'
const SERVER_MAX_FRAME = 1024

const enc = new TextEncoder()
const dec = new TextDecoder()

function seedOf (n: number): Uint8Array {
  return new Uint8Array(32).fill(n)
}

async function waitFor (cond: () => boolean, label: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('mesh libp2p transport', () => {
  const seeds = [seedOf(1), seedOf(2), seedOf(3)]
  const nodes: MeshLibp2p[] = []
  const received: string[][] = [[], [], []]
  const rejectedByNode1: string[] = []
  const serverErrors: Error[] = []

  const node = (i: number): MeshLibp2p => {
    const n = nodes[i]
    if (n === undefined) throw new Error(`node ${i} not started`)
    return n
  }

  beforeAll(async () => {
    const [s1, s2, s3] = seeds as [Uint8Array, Uint8Array, Uint8Array]
    const n1 = await createMeshLibp2p({ seed: s1 })
    nodes.push(n1)
    const addr = n1.getMultiaddrs()[0]?.toString()
    if (addr === undefined) throw new Error('node 1 has no listen address')
    const bootstrapAddr = addr.includes('/p2p/') ? addr : `${addr}/p2p/${n1.peerId.toString()}`
    nodes.push(await createMeshLibp2p({ seed: s2, bootstrap: [bootstrapAddr] }))
    nodes.push(await createMeshLibp2p({ seed: s3, bootstrap: [bootstrapAddr] }))

    n1.services.pubsub.topicValidators.set(TOPIC, (_from, msg) => {
      const text = dec.decode(msg.data)
      if (!text.startsWith('bad')) return TopicValidatorResult.Accept
      rejectedByNode1.push(text)
      return TopicValidatorResult.Reject
    })

    // Echo server: every frame goes back unchanged until the client half-closes.
    await n1.handle(PROTOCOL, async ({ stream }) => {
      const framed = new FramedStream(stream, { maxFrameBytes: SERVER_MAX_FRAME })
      try {
        for (let f = await framed.read(); f !== undefined; f = await framed.read()) {
          await framed.write(f)
        }
        await framed.close()
      } catch (err) {
        serverErrors.push(err as Error)
        framed.abort(err as Error)
      }
    })

    nodes.forEach((n, i) => {
      n.services.pubsub.addEventListener('message', (evt) => {
        if (evt.detail.topic === TOPIC) received[i]?.push(dec.decode(evt.detail.data))
      })
      n.services.pubsub.subscribe(TOPIC)
    })

    await waitFor(() => node(0).getConnections().length >= 2 &&
      node(1).getConnections().length >= 1 &&
      node(2).getConnections().length >= 1, 'bootstrap connections')

    const [id1, id2, id3] = nodes.map((n) => n.peerId.toString())
    await waitFor(() => {
      const mesh1 = node(0).services.pubsub.getMeshPeers(TOPIC)
      return mesh1.includes(id2 ?? '') && mesh1.includes(id3 ?? '') &&
        node(1).services.pubsub.getMeshPeers(TOPIC).includes(id1 ?? '') &&
        node(2).services.pubsub.getMeshPeers(TOPIC).includes(id1 ?? '')
    }, 'gossipsub mesh')
  })

  afterAll(async () => {
    await Promise.all(nodes.map(async (n) => n.stop()))
  })

  it('derives an Ed25519 PeerId from the seed', async () => {
    for (const [i, seed] of seeds.entries()) {
      expect(await peerIdFromSeed(seed)).toBe(node(i).peerId.toString())
      expect(node(i).peerId.type).toBe('Ed25519')
    }
  })

  it('delivers a message published at node 3 to nodes 1 and 2', async () => {
    await node(2).services.pubsub.publish(TOPIC, enc.encode('hello'))
    await waitFor(() => received[0]?.includes('hello') === true && received[1]?.includes('hello') === true,
      'hello at nodes 1 and 2')
    expect(received[2]).not.toContain('hello') // emitSelf: false
  })

  it('asks its mesh peers not to send only messages of at least IDONTWANT_MIN_BYTES (16 KiB)', async () => {
    // Node 2 hears node 3 only through node 1, which tells its other mesh peers (node 2) IDONTWANT
    // when a message is large enough, before forwarding it: node 2 records each such notice.
    type Notices = Map<string, Map<string, number>>
    const notices = (node(1).services.pubsub as unknown as { idontwants: Notices }).idontwants
    const fromNode1 = (): number => notices.get(node(0).peerId.toString())?.size ?? 0
    const before = fromNode1()
    const small = `small:${'s'.repeat(4 * 1024)}`
    const large = `large:${'l'.repeat(IDONTWANT_MIN_BYTES)}`
    await node(2).services.pubsub.publish(TOPIC, enc.encode(small))
    await node(2).services.pubsub.publish(TOPIC, enc.encode(large))
    await waitFor(() => received[1]?.includes(large) === true && fromNode1() > before, 'the large message at node 2')
    expect(received[1]).toContain(small)
    // One notice: the large message's. A 4 KiB entries message (gossipsub's default threshold is 512 bytes)
    // costs no control message.
    expect(fromNode1() - before).toBe(1)
  })

  it('drops a message its topic validator rejects', async () => {
    await node(2).services.pubsub.publish(TOPIC, enc.encode('bad-1'))
    // Same publisher, same connection: once the sentinel lands, 'bad-1' was already processed.
    await node(2).services.pubsub.publish(TOPIC, enc.encode('good-after-bad'))
    await waitFor(() => received[0]?.includes('good-after-bad') === true &&
      received[1]?.includes('good-after-bad') === true, 'sentinel at nodes 1 and 2')
    expect(rejectedByNode1).toContain('bad-1')
    expect(received[0]).not.toContain('bad-1')
    // Node 2 only hears node 3 through node 1, which must not forward a rejected message.
    expect(received[1]).not.toContain('bad-1')
  })

  it('round-trips frames over a custom protocol', async () => {
    const stream = await node(1).dialProtocol(node(0).peerId, PROTOCOL)
    const framed = new FramedStream(stream, { maxFrameBytes: SERVER_MAX_FRAME })

    // A timed-out read must not lose the frame that arrives later.
    await expect(framed.read({ timeoutMs: 30 })).rejects.toBeInstanceOf(ReadTimeoutError)
    await framed.write(enc.encode('one'))
    expect(dec.decode(await framed.read() ?? new Uint8Array())).toBe('one')

    await framed.write(enc.encode('two'))
    await framed.write(enc.encode('three'))
    expect(dec.decode(await framed.read() ?? new Uint8Array())).toBe('two')
    expect(dec.decode(await framed.read() ?? new Uint8Array())).toBe('three')

    // Oversized outgoing frame fails locally and leaves the stream usable.
    const err = await framed.write(new Uint8Array(SERVER_MAX_FRAME + 1)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(FrameTooLargeError)
    expect((err as Error).name).toBe('FrameTooLargeError')

    const max = new Uint8Array(SERVER_MAX_FRAME).fill(7)
    await framed.write(max)
    expect(await framed.read()).toEqual(max)

    await framed.closeWrite()
    expect(await framed.read({ timeoutMs: 2_000 })).toBeUndefined()
    await framed.close()
    expect(serverErrors).toEqual([])
  })

  it('rejects an oversized incoming frame with FrameTooLargeError', async () => {
    const stream = await node(2).dialProtocol(node(0).peerId, PROTOCOL)
    // The client allows big frames, so the server's limit is what trips.
    const framed = new FramedStream(stream, { maxFrameBytes: 64 * 1024 })
    await framed.write(new Uint8Array(4096))

    await waitFor(() => serverErrors.length > 0, 'server-side frame rejection')
    const serverErr = serverErrors[0]
    expect(serverErr).toBeInstanceOf(FrameTooLargeError)
    expect(serverErr?.name).toBe('FrameTooLargeError')
    expect((serverErr as FrameTooLargeError).frameBytes).toBe(4096)
    expect((serverErr as FrameTooLargeError).maxFrameBytes).toBe(SERVER_MAX_FRAME)

    // The server reset the stream, so the client sees an error, not a clean EOF.
    await expect(framed.read({ timeoutMs: 2_000 })).rejects.toThrow()
  })
})

import { TopicValidatorResult } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { MeshLibp2p } from './libp2p.js'
import type { ConnectionInfo, GossipResult, MeshNetwork } from './network.js'

const TOPIC_RESULT: Record<GossipResult, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  reject: TopicValidatorResult.Reject,
  ignore: TopicValidatorResult.Ignore
}

/** How stale the connection count may be: it only decides whether to dial more peers. */
const CONNECTION_COUNT_MAX_AGE_MS = 500

/**
 * The {@link MeshNetwork} of a libp2p node (TCP, noise, yamux, gossipsub).
 *
 * @example
 * ```ts
 * const network = libp2pNetwork(await createMeshLibp2p({ seed }))
 * network.subscribe(topic, async (from, data) => 'accept')
 * ```
 */
export function libp2pNetwork (libp2p: MeshLibp2p): MeshNetwork {
  // Asked on every heartbeat received; getConnections() flattens every peer's list into a new array.
  let counted = { at: -Infinity, count: 0 }
  const connectionCount = (): number => {
    const now = Date.now()
    if (now - counted.at >= CONNECTION_COUNT_MAX_AGE_MS) counted = { at: now, count: libp2p.getConnections().length }
    return counted.count
  }
  const open = (peerId: string) => libp2p.getConnections().filter(c => c.remotePeer.toString() === peerId &&
    c.status === 'open')
  return {
    addrs: () => libp2p.getMultiaddrs().map(a => a.toString()),
    // From the connections' own PeerIds, whose strings are cached: getPeers() builds new PeerIds
    // from strings and encodes them again, on every heartbeat and anti-entropy round.
    connectedPeers: () => [...new Set(libp2p.getConnections().map(c => c.remotePeer.toString()))],
    isConnected: (peerId) => open(peerId).length > 0,
    connectionCount,
    connections: (): ConnectionInfo[] => libp2p.getConnections().map(c => ({
      peerId: c.remotePeer.toString(), direction: c.direction, remoteAddr: c.remoteAddr.toString()
    })),
    openStream: async (peerId, protocol, opts) => {
      let conn = open(peerId)[0]
      if (conn === undefined) {
        if (opts.addrs === undefined || opts.addrs.length === 0) throw new Error(`no known address for ${peerId}`)
        conn = await libp2p.dial(opts.addrs.map(a => multiaddr(a)), { signal: opts.signal })
      }
      // The protocol name travels with the first frame: one round trip fewer.
      return await conn.newStream(protocol, { signal: opts.signal, negotiateFully: false })
    },
    handle: async (protocol, handler, opts) => {
      await libp2p.handle(protocol, (data) => { handler(data.stream, data.connection.remotePeer.toString()) }, opts)
    },
    publish: async (topic, data) => { await libp2p.services.pubsub.publish(topic, data) },
    subscribe: (topic, validate) => {
      const pubsub = libp2p.services.pubsub
      pubsub.topicValidators.set(topic, async (peer, msg) => TOPIC_RESULT[await validate(peer.toString(), msg.data)])
      pubsub.subscribe(topic)
    },
    dial: async (addrs, opts) => {
      const conn = await libp2p.dial(addrs.map(a => multiaddr(a)), { signal: opts?.signal })
      return conn.remotePeer.toString()
    },
    hangUp: async (peerId) => {
      for (const conn of libp2p.getConnections()) {
        if (conn.remotePeer.toString() !== peerId) continue
        await conn.close().catch((err: unknown) => { conn.abort(err as Error) })
      }
    },
    onPeerConnect: (fn) => { libp2p.addEventListener('peer:connect', (evt) => { fn(evt.detail.toString()) }) },
    onPeerDisconnect: (fn) => { libp2p.addEventListener('peer:disconnect', (evt) => { fn(evt.detail.toString()) }) }
  }
}

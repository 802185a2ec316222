/**
 * libp2p 2.x node construction for the govmesh mesh transport.
 *
 * @packageDocumentation
 */
import './polyfill.js'
import { gossipsub } from '@chainsafe/libp2p-gossipsub'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { mdns } from '@libp2p/mdns'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { installHalfWindowUpdates } from './yamux-window.js'
import type { GossipSub, GossipSubComponents } from '@chainsafe/libp2p-gossipsub'
import type { MsgIdFn } from '@chainsafe/libp2p-gossipsub/types'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import type { Libp2pOptions } from 'libp2p'

/** Options for {@link createMeshLibp2p}. */
export interface MeshTransportInit {
  /** 32-byte Ed25519 private seed; the node's PeerId is derived from it. */
  seed: Uint8Array
  /** Listen multiaddrs. @defaultValue `['/ip4/127.0.0.1/tcp/0']` */
  listen?: string[]
  /** Bootstrap multiaddrs, each ending in `/p2p/<peerId>`. Empty or absent disables bootstrap. */
  bootstrap?: string[]
  /** Enable LAN discovery via mDNS. @defaultValue `false` */
  mdns?: boolean
  /** Connection manager upper bound. @defaultValue `64` */
  maxConnections?: number
  /** Gossipsub heartbeat; short intervals form the mesh quickly. @defaultValue `100` */
  gossipHeartbeatMs?: number
  /**
   * Gossipsub message-id function. Defaults to gossipsub's `from + seqno`
   * (correct under StrictSign); supply a content hash to dedupe republished
   * payloads across publishers.
   */
  msgIdFn?: MsgIdFn
  /**
   * Sign gossip messages with the libp2p key (StrictSign). govmesh payloads carry
   * their own Ed25519 signatures, so the daemon turns this off (StrictNoSign, which
   * needs a content-based `msgIdFn`) and saves a sign and a verify per message.
   * @defaultValue `true`
   */
  signMessages?: boolean
  /** Peers to refuse connections to and from (a partition for testing, or an operator's block list). */
  isBlocked?: (peerId: string) => boolean
  /**
   * Judges a peer once its handshake completed (its key is known): false hangs up before the
   * connection exists, so it never holds a connection slot. Absent: every peer is kept.
   */
  admitPeer?: (peerId: string, direction: 'inbound' | 'outbound') => boolean
  /** Start the node before returning. @defaultValue `true` */
  start?: boolean
}

const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0']
const DEFAULT_MAX_CONNECTIONS = 64
const DEFAULT_HEARTBEAT_MS = 1000
const INBOUND_CONNECTIONS_PER_SECOND = 64
// yamux pings every connection every 30 s by default, a write and an answer per connection that an
// idle node pays for each of its peers. A ping only makes a dead socket's write fail sooner; signed
// heartbeats judge liveness, so once every two minutes is enough.
const YAMUX_KEEPALIVE_MS = 120_000
// @libp2p/bootstrap otherwise waits 1000 ms before its first dial.
const BOOTSTRAP_DELAY_MS = 50

/**
 * Gossipsub 1.2 has a node that receives a message of at least this size tell each of its mesh
 * peers at once not to send it (IDONTWANT): one more control message to every mesh peer, each a
 * noise-encrypted socket write and a decrypt, for every message received. The library's 512
 * bytes covers nearly every entries message (a sealed batch of a few records is 1–3 KB), and
 * on loopback the notice rarely arrives before the duplicate it would stop. On a 5-node mesh
 * (one-hop execs, one client, alternating runs) it cost the off-path nodes about 30 % of their
 * CPU per execution; 16 clients ran 1.3–1.8x as many execs a second without it. Kept for large
 * messages (sync-sized batches up to 1 MiB), where a duplicate costs more than the notice.
 */
export const IDONTWANT_MIN_BYTES = 16 * 1024

/**
 * Gossipsub's mesh degrees for a governance mesh: tens of members, a few messages a second.
 * The library's defaults (D 6, up to 12, gossip to 6 more, flood publish to every peer) are made
 * for large public networks; here each copy of a message is a noise-encrypted write to a socket
 * and a decrypt on the other end, and what an idle node spends grows with the copies (about D
 * per message). Three mesh peers still reach 50 nodes in four hops, and sync (not gossip) is
 * what guarantees delivery.
 *
 * `Dhi` is close to `D` because every mesh peer past the first costs one received and one sent
 * copy of every message: grafts from joining peers otherwise pile up to six, and the bootstrap
 * node of a testnet, which everyone reaches first, forwarded each heartbeat about four times. Gossip
 * (IHAVE) goes to exactly `Dlazy` peers per gossipsub heartbeat: with the library's
 * `gossipFactor` of a quarter of all connected peers it went to three of a 20-node testnet's
 * members every second, and each IHAVE is a socket write on one side and a read on the other.
 *
 * IDONTWANT (gossipsub 1.2) only for messages of at least {@link IDONTWANT_MIN_BYTES}.
 */
export const GOVERNANCE_MESH_GOSSIP = {
  D: 3,
  Dlo: 2,
  Dhi: 4,
  Dscore: 1,
  Dout: 1,
  Dlazy: 1,
  gossipFactor: 0,
  floodPublish: false,
  idontwantMinDataSize: IDONTWANT_MIN_BYTES
} as const

/**
 * Derive the node's Ed25519 private key from a 32-byte seed.
 *
 * `privateKeyFromRaw` would treat 32 raw bytes as secp256k1, so the seed path
 * is the only correct one for Ed25519.
 */
export async function privateKeyFromSeed (seed: Uint8Array): Promise<Ed25519PrivateKey> {
  if (seed.byteLength !== 32) {
    throw new RangeError(`Ed25519 seed must be 32 bytes, got ${seed.byteLength}`)
  }
  return generateKeyPairFromSeed('Ed25519', seed)
}

/**
 * The PeerId string a node created from `seed` will have.
 *
 * @example
 * ```ts
 * const id = await peerIdFromSeed(seed)
 * const node = await createMeshLibp2p({ seed })
 * id === node.peerId.toString() // true
 * ```
 */
export async function peerIdFromSeed (seed: Uint8Array): Promise<string> {
  return peerIdFromPrivateKey(await privateKeyFromSeed(seed)).toString()
}

/**
 * Create a libp2p 2.x node: TCP + noise + yamux, identify, ping, gossipsub,
 * optional bootstrap and mDNS discovery.
 *
 * The node is started unless `init.start === false`.
 *
 * Gossipsub is exposed as `node.services.pubsub` typed as the concrete
 * `GossipSub` class, so mesh introspection (`getMeshPeers`) is available.
 *
 * Topic validation: put a validator into `node.services.pubsub.topicValidators`
 * (a `Map<topic, TopicValidatorFn>`) before subscribing. It runs for every
 * message received from the network (not for the node's own publishes) and
 * returns `TopicValidatorResult` from `@libp2p/interface`:
 * - `Accept`: deliver locally and forward;
 * - `Reject`: drop, do not forward, and count against the sender's score;
 * - `Ignore`: drop and do not forward, without penalising the sender.
 *
 * @example
 * ```ts
 * import { TopicValidatorResult } from '@libp2p/interface'
 *
 * const node = await createMeshLibp2p({ seed, bootstrap: [seedNodeAddr] })
 * node.services.pubsub.topicValidators.set('govmesh/policy', (_from, msg) =>
 *   isWellFormed(msg.data) ? TopicValidatorResult.Accept : TopicValidatorResult.Reject)
 * node.services.pubsub.subscribe('govmesh/policy')
 * node.services.pubsub.addEventListener('message', (evt) => handle(evt.detail))
 * await node.services.pubsub.publish('govmesh/policy', bytes)
 * ```
 */
export async function createMeshLibp2p (init: MeshTransportInit) {
  installHalfWindowUpdates()
  const privateKey = await privateKeyFromSeed(init.seed)

  const peerDiscovery: NonNullable<Libp2pOptions['peerDiscovery']> = []
  const bootstrapList = init.bootstrap ?? []
  if (bootstrapList.length > 0) {
    peerDiscovery.push(bootstrap({ list: bootstrapList, timeout: BOOTSTRAP_DELAY_MS }))
  }
  if (init.mdns === true) {
    peerDiscovery.push(mdns())
  }

  const pubsubFactory = gossipsub({
    ...GOVERNANCE_MESH_GOSSIP,
    emitSelf: false,
    heartbeatInterval: init.gossipHeartbeatMs ?? DEFAULT_HEARTBEAT_MS,
    globalSignaturePolicy: init.signMessages === false ? 'StrictNoSign' : 'StrictSign',
    // Callers sync on connect and never rely on gossip for delivery, so a
    // publish before the mesh forms must not throw.
    allowPublishToZeroTopicPeers: true,
    // Gossipsub penalises many peers behind one IP (sybil defence); on loopback that is every
    // node of a local testnet, and past 10 of them the penalty graylists them all. Membership
    // already gates who may gossip, so loopback is exempt.
    scoreParams: { IPColocationFactorWhitelist: new Set(['127.0.0.1', '::1']) },
    ...(init.msgIdFn != null ? { msgIdFn: init.msgIdFn } : {})
  })

  return createLibp2p({
    privateKey,
    start: init.start ?? true,
    addresses: { listen: init.listen ?? DEFAULT_LISTEN },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ keepAliveInterval: YAMUX_KEEPALIVE_MS })],
    peerDiscovery,
    connectionManager: {
      maxConnections: init.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      // libp2p's default (5 inbound connections per second per IP) is a public-network defence; a
      // local testnet is one IP, and joining members dialing together would be turned away and retry.
      inboundConnectionThreshold: INBOUND_CONNECTIONS_PER_SECOND
    },
    // The connection monitor pings every connection every 10 s and aborts it when a ping is late:
    // on a busy machine that drops healthy connections, and the redials make the machine busier.
    // Members' signed heartbeats already judge liveness (staleness), and TCP reports dead sockets.
    connectionMonitor: { enabled: false },
    connectionGater: {
      denyDialPeer: async (peerId) => init.isBlocked?.(peerId.toString()) ?? false,
      denyInboundEncryptedConnection: async (peerId) =>
        (init.isBlocked?.(peerId.toString()) ?? false) || !(init.admitPeer?.(peerId.toString(), 'inbound') ?? true),
      denyOutboundEncryptedConnection: async (peerId) =>
        (init.isBlocked?.(peerId.toString()) ?? false) || !(init.admitPeer?.(peerId.toString(), 'outbound') ?? true)
    },
    services: {
      identify: identify(),
      ping: ping(),
      // The factory is typed as the generic PubSub interface; the instance is
      // a GossipSub, and exposing that type gives callers mesh introspection.
      pubsub: (components: GossipSubComponents) => pubsubFactory(components) as GossipSub
    }
  })
}

/** The libp2p node type returned by {@link createMeshLibp2p}. */
export type MeshLibp2p = Awaited<ReturnType<typeof createMeshLibp2p>>

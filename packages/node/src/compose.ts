import { antiEntropyNeeded } from '@govmesh/core'
import { memoryIndex, type HistoryIndex } from './history-index.js'
import { ConnectionGate, connectionService, type ConnectionService } from './services/connections.js'
import { execService, type ExecService } from './services/exec.js'
import { gossipService, type GossipService } from './services/gossip.js'
import { heartbeatService, type HeartbeatService } from './services/heartbeat.js'
import { TrustReporter } from './services/reporter.js'
import type { Startable } from './services/startable.js'
import { StreamGuard } from './services/streams.js'
import { syncService, type SyncService } from './services/sync.js'
import { trustService, type TrustTracker } from './services/trust.js'
import type { NodeEventBus } from './events.js'
import type { ExecutorConfig } from './executors.js'
import type { Ledger } from './ledger.js'
import { componentLogger, type Logger } from './logger.js'
import type { NodeMetrics } from './metrics.js'
import type { MeshNetwork } from './network.js'
import { keyOfPeer, type PeerDirectory } from './peers.js'
import { entriesTopic, heartbeatsTopic } from './protocol.js'
import type { VerifiedBatch } from './verify-pool.js'

/** What every node has before it has a network: its ledger and what it knows of peers. */
export interface NodeBase {
  ledger: Ledger
  peers: PeerDirectory
  metrics: NodeMetrics
  events: NodeEventBus
  logger: Logger
  /** The orderings of history that sync serving walks; default: the ledger DAG's, in memory. */
  history?: HistoryIndex
}

/** The services that need no network: trust, stream admission, reporting, the connection gate. */
export interface LocalServices {
  trust: TrustTracker
  streams: StreamGuard
  reporter: TrustReporter
  gate: ConnectionGate
}

/**
 * Creates the services that need no network. The daemon and the simulated mesh of the tests both
 * compose a node with this and {@link createNetworkServices}, so both run the same wiring.
 *
 * @example
 * ```ts
 * const local = createLocalServices(base, { bootstrap })
 * ```
 */
export function createLocalServices (base: NodeBase, init: { bootstrap?: string[] } = {}): LocalServices {
  const { ledger, peers, metrics, events, logger } = base
  const trust = trustService()({
    dag: ledger.dag, policy: ledger.policy, self: ledger.publicKey, peers, events, onAccepted: (fn) => {
      ledger.onAccepted(fn)
    }
  })
  const streams = new StreamGuard({
    isMemberPeer: (p) => ledger.isMemberPeer(p),
    statusOf: (p) => trust.statusOf(p),
    metrics,
    logger: componentLogger(logger, 'streams')
  })
  const reporter = new TrustReporter({
    self: ledger.publicKey,
    isMember: (k) => ledger.isMember(k),
    trust,
    append: ledger.append,
    logger: componentLogger(logger, 'reporter')
  })
  ledger.onEquivocation((ev) => { void reporter.reportEquivocation(ev) })
  const gate = new ConnectionGate({
    dag: ledger.dag,
    isMemberPeer: (p) => ledger.isMemberPeer(p),
    membershipEpoch: () => ledger.membershipEpoch,
    metrics,
    logger: componentLogger(logger, 'connections')
  }, init.bootstrap ?? [])
  return { trust, streams, reporter, gate }
}

/** The heads a connected peer last advertised in a heartbeat, or undefined before its first. */
function advertisedHeads (peers: PeerDirectory, peerId: string): { headsHash: string } | undefined {
  const key = keyOfPeer(peerId)
  const headsHash = key === undefined ? null : peers.get(key)?.headsHash ?? null
  return headsHash === null ? undefined : { headsHash }
}

export interface NetworkServicesInit {
  measurement: string
  advertiseDigest?: string
  executors?: Record<string, ExecutorConfig>
  antiEntropyMs?: number
  bootstrap?: string[]
  maxConnections?: number
  /** Send heartbeats on the policy's timer (the daemon); false to send them by calling `beat()`. */
  periodicHeartbeats?: boolean
  /** Checks sync batches' signatures off the main thread (the daemon's verify pool). */
  verify?: (entries: Uint8Array[]) => Promise<VerifiedBatch>
  /** How long sealed records wait to share a gossip message (default GOSSIP_COALESCE_MS; 0: none). */
  gossipCoalesceMs?: number
}

export interface NetworkServices {
  connections: ConnectionService
  sync: SyncService
  gossip: GossipService
  heartbeats: HeartbeatService
  exec: ExecService
  /** Every service with a lifecycle, in start order (stop in reverse). */
  startables: Startable[]
}

/**
 * Creates the services that talk to peers, each from its init and the narrow components it needs.
 *
 * @example
 * ```ts
 * const net = createNetworkServices(base, local, network, { measurement })
 * for (const s of net.startables) await s.start()
 * ```
 */
export function createNetworkServices (
  base: NodeBase, local: LocalServices, network: MeshNetwork, init: NetworkServicesInit
): NetworkServices {
  const { ledger, peers, metrics, events, logger } = base
  const onAccepted = (fn: Parameters<Ledger['onAccepted']>[0]): void => { ledger.onAccepted(fn) }
  const isMemberPeer = (p: string): boolean => ledger.isMemberPeer(p)
  const requestSync = (peer: string, opts: { minIntervalMs: number }): void => { void sync.withPeer(peer, opts) }
  const connections = connectionService({ bootstrap: init.bootstrap, maxConnections: init.maxConnections })({
    gate: local.gate, network, self: ledger.publicKey, isMemberPeer, onAccepted, logger: componentLogger(
      logger, 'connections'
    )
  })
  const sync = syncService({
    meshId: ledger.meshId, antiEntropyMs: init.antiEntropyMs, onTick: () => { connections.redialBootstrap() }
  })({
    dag: ledger.dag, history: base.history ?? memoryIndex(ledger.dag), ingest: ledger.ingest, verify: init.verify,
    network, isMemberPeer, streams: local.streams, metrics,
    // Nothing to find while every connected member advertises our heads.
    antiEntropyNeeded: () => antiEntropyNeeded(heartbeats.ownHeadsHash(), network.connectedPeers().filter(isMemberPeer)
      .map(p => advertisedHeads(peers, p))),
    logger: componentLogger(logger, 'sync')
  })
  const gossip = gossipService({
    topic: entriesTopic(ledger.meshId), coalesceMs: init.gossipCoalesceMs, batchExecutionRecords: ledger.sealsLineage
  })({
    network, ingest: ledger.ingest, isMemberPeer, onAccepted, reporter: local.reporter, sync: requestSync, metrics,
    logger: componentLogger(logger, 'gossip')
  })
  const heartbeats = heartbeatService({
    topic: heartbeatsTopic(ledger.meshId),
    meshId: ledger.meshId,
    measurement: init.measurement,
    advertiseDigest: init.advertiseDigest,
    periodic: init.periodicHeartbeats
  })({
    crypto: ledger.crypto,
    keys: ledger.keys,
    dag: ledger.dag,
    policy: ledger.policy,
    network,
    isMember: (k) => ledger.isMember(k),
    isMemberPeer,
    peers,
    streams: local.streams,
    reporter: local.reporter,
    sync: requestSync,
    dial: (record) => { connections.dialFromHeartbeat(record) },
    onAccepted: (fn) => { ledger.onAccepted(fn) },
    metrics,
    events,
    logger: componentLogger(logger, 'heartbeat')
  })
  const exec = execService({ executors: init.executors })({
    dag: ledger.dag,
    policy: ledger.policy,
    self: { peerId: ledger.peerId, key: ledger.publicKey },
    zone: () => ledger.zone(),
    append: ledger.append,
    ingest: ledger.ingest,
    trust: local.trust,
    peers,
    network,
    streams: local.streams,
    unpublished: (id) => gossip.unpublished(id),
    pull: async (peer) => { await sync.withPeer(peer) },
    metrics,
    events,
    logger: componentLogger(logger, 'exec')
  })
  return {
    connections, sync, gossip, heartbeats, exec, startables: [local.trust, connections, gossip, heartbeats, sync, exec]
  }
}

import './polyfill.js'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeKeyFile, type Dag, type KeyPair, type PolicyState, type SignedEntry } from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { DEFAULT_MAX_CONNECTIONS } from './constants.js'
import { NodeEventBus, type NodeEventName, type NodeEvents } from './events.js'
import type { ExecutorConfig } from './executors.js'
import { Ledger, type Append, type Ingest } from './ledger.js'
import { createMeshLibp2p, type MeshLibp2p } from './libp2p.js'
import { libp2pNetwork } from './libp2p-network.js'
import { componentLogger, createLogger, type Logger } from './logger.js'
import { measureRuntime } from './measurement.js'
import { NodeMetrics } from './metrics.js'
import type { MeshNetwork } from './network.js'
import type { NodeStatus } from './node-status.js'
import { PeerDirectory } from './peers.js'
import { clearRefillMarker, readRefillMarker } from './refill.js'
import { createLocalServices, createNetworkServices, type LocalServices } from './compose.js'
import { VerifyPool, type VerifiedBatch } from './verify-pool.js'
import type { ConnectionGate, ConnectionService } from './services/connections.js'
import type { ExecService } from './services/exec.js'
import { gossipMessageId } from './services/gossip.js'
import type { TrustReporter } from './services/reporter.js'
import type { Startable } from './services/startable.js'
import type { StreamGuard } from './services/streams.js'
import type { TrustTracker } from './services/trust.js'
import { Store } from './store.js'
import { CheckpointWriter, StoreBatches } from './checkpoint-writer.js'
import { storeIndex, type HistoryIndex } from './history-index.js'
import { LevelHistory } from './level-history.js'
import { openLedger } from './ledger-open.js'

export type { EntrySource } from './events.js'
export type { IngestOutcome } from './ledger.js'
export type { NodeStatus } from './node-status.js'

export interface GovmeshNodeInit {
  /** Data directory holding `node.key` and the level database. */
  dataDir: string
  genesis: SignedEntry<'mesh.genesis'>
  listen?: string[]
  bootstrap?: string[]
  mdns?: boolean
  /** The zone this operator expects; the membership record is authoritative. */
  zone?: string
  /** Overrides the computed runtime measurement (hex), to simulate tampered code. */
  measurement?: string
  logger?: Logger
  /** Executors by action (from the node's config file); default: echo and sleep. */
  executors?: Record<string, ExecutorConfig>
  /** Overrides the policy digest this node advertises (testing aid to simulate drift). */
  advertiseDigest?: string
  /** Anti-entropy period: sync with one random peer this often. Default 2000 ms. */
  antiEntropyMs?: number
  maxPending?: number
  maxConnections?: number
  /**
   * fsync each acknowledged write. Without it an acknowledged write has reached the
   * OS (it survives `kill -9` and a daemon crash, not a power loss). Default false.
   */
  fsync?: boolean
  /**
   * Seal execution records in batches under one signature (protocol v2, docs/LINEAGE-BATCHES.md).
   * Off: every record is signed alone (v1), for meshes with nodes that predate version 2. Default true.
   */
  sealLineage?: boolean
  /**
   * Worker threads that check the signatures of sync batches, so catch-up uses every core.
   * 0 checks them on the main thread. Default: one per core but one (at least one).
   */
  verifyThreads?: number
}


/**
 * One govmesh node: the lineage DAG and policy of its mesh ({@link Ledger}, persisted in level),
 * replicated over libp2p gossipsub (speed) and the sync protocol (correctness). It only composes:
 * each concern is a service created from an `Init` and the narrow components it needs
 * (docs/ARCHITECTURE.md), started in order and stopped in reverse. Events: {@link NodeEvents}.
 *
 * @example
 * ```ts
 * const node = await createGovmeshNode({ dataDir, genesis, bootstrap: [addr] })
 * node.on('entry:added', (e) => console.log(e.id))
 * await node.stop()
 * ```
 */
export class GovmeshNode {
  readonly keys: KeyPair
  readonly publicKey: string
  readonly peerId: string
  readonly meshId: string
  readonly metrics = new NodeMetrics()
  readonly events = new NodeEventBus()
  readonly log: Logger
  readonly measurement: string
  readonly peers = new PeerDirectory()
  readonly ledger: Ledger
  readonly trust: TrustTracker
  readonly streams: StreamGuard
  readonly reporter: TrustReporter
  readonly gate: ConnectionGate
  network!: MeshNetwork
  exec!: ExecService
  connections!: ConnectionService
  private libp2p: MeshLibp2p | undefined
  private store: Store | undefined
  private readonly local: LocalServices
  private readonly services: Startable[] = []
  private readonly storeRef: { store?: Store } = {}
  private readonly history: LevelHistory
  /** The store's orderings of history, for queries that walk it (log, search, children, sync serving). */
  readonly historyIndex: HistoryIndex
  private readonly checkpoints = new CheckpointWriter()
  private readonly startedAt = Date.now()
  private stopped = false

  constructor (private readonly init: GovmeshNodeInit, keys: KeyPair) {
    this.keys = keys
    this.log = init.logger ?? createLogger({ name: 'govmesh' })
    this.measurement = init.measurement ?? measureRuntime()
    const storeRef = this.storeRef
    const refill = readRefillMarker(init.dataDir)
    // History lives in the store: the DAG reads accepted entries back through a bounded cache.
    this.history = new LevelHistory(() => storeRef.store)
    this.historyIndex = storeIndex(() => storeRef.store!, this.history)
    this.ledger = new Ledger({
      genesis: init.genesis,
      keys,
      fsync: init.fsync,
      sealLineage: init.sealLineage,
      maxPending: init.maxPending,
      refill,
      onRefilled: () => { clearRefillMarker(init.dataDir) },
      history: this.history
    }, {
      // The store opens in start(); nothing is ingested before it is.
      store: {
        putAccepted: async (entries, opts) => { await storeRef.store!.putAccepted(entries, opts) },
        putPending: async (id, bytes) => { await storeRef.store!.putPending(id, bytes) },
        deletePending: async (ids) => { await storeRef.store!.deletePending(ids) }
      },
      metrics: this.metrics,
      events: this.events,
      logger: componentLogger(this.log, 'ledger'),
      batches: new StoreBatches(this.history, this.checkpoints)
    })
    this.publicKey = this.ledger.publicKey
    this.peerId = this.ledger.peerId
    this.meshId = this.ledger.meshId
    const local = createLocalServices({
      ledger: this.ledger, peers: this.peers, metrics: this.metrics, events: this.events, logger: this.log
    }, { bootstrap: init.bootstrap })
    this.trust = local.trust
    this.streams = local.streams
    this.reporter = local.reporter
    this.gate = local.gate
    this.local = local
  }

  get dag (): Dag { return this.ledger.dag }

  get policy (): PolicyState { return this.ledger.policy }
  /** Whether acknowledged writes are fsynced (see {@link GovmeshNodeInit.fsync}). */
  get fsync (): boolean { return this.ledger.fsync }
  get ingest (): Ingest { return this.ledger.ingest }
  get append (): Append { return this.ledger.append }

  on<K extends NodeEventName> (name: K, fn: (detail: NodeEvents[K]) => void): void { this.events.on(name, fn) }
  off<K extends NodeEventName> (name: K, fn: (detail: NodeEvents[K]) => void): void { this.events.off(name, fn) }

  /** Opens the store, loads it, starts libp2p and the services. */
  async start (): Promise<void> {
    const { init, ledger } = this
    mkdirSync(init.dataDir, { recursive: true })
    // The index check runs while the checkpoint is read; openLedger awaits it before anything is written.
    const path = join(init.dataDir, 'db')
    const store = await Store.open({ path, meshId: this.meshId, checkIndexes: 'concurrently' })
    this.store = store
    this.storeRef.store = store
    this.metrics.watchStore(() => store.commitStats)
    if (store.migratedFrom === 1) {
      this.log.info(
        'store migrated: integrity record computed from what the store holds', { fromSchema: store.migratedFrom }
      )
    }
    const replayed = await openLedger({
      ledger, store, history: this.history, checkpoints: this.checkpoints, crypto: nodeCrypto
    })
    if (store.migratedFrom !== undefined && replayed > 0) {
      this.log.info(
        'store migrated: metadata records and checkpoint written', { fromSchema: store.migratedFrom, replayed }
      )
    }
    if (store.chainsMigrated !== undefined) {
      this.log.info(
        'store migrated: entries moved to chain records',
        { fromSchema: store.migratedFrom, moved: store.chainsMigrated }
      )
    }

    this.libp2p = await createMeshLibp2p({
      seed: this.keys.secretKey,
      listen: init.listen,
      bootstrap: init.bootstrap,
      mdns: init.mdns,
      maxConnections: init.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      // Entries and heartbeats are signed by their authors; a second libp2p signature adds nothing.
      signMessages: false,
      isBlocked: (peer) => this.gate.isBlocked(peer),
      admitPeer: (peer, direction) => this.gate.admit(peer, direction),
      msgIdFn: gossipMessageId()
    })
    const network = libp2pNetwork(this.libp2p)
    this.network = network
    const services = createNetworkServices({
      ledger, peers: this.peers, metrics: this.metrics, events: this.events, logger: this.log,
      history: this.historyIndex
    }, this.local, network, {
      measurement: this.measurement,
      advertiseDigest: init.advertiseDigest,
      executors: init.executors,
      antiEntropyMs: init.antiEntropyMs,
      bootstrap: init.bootstrap,
      maxConnections: init.maxConnections,
      verify: this.startVerifyPool(init.verifyThreads)
    })
    this.exec = services.exec
    this.connections = services.connections
    this.services.push(...services.startables)
    for (const s of this.services) await s.start()
    network.onPeerConnect((peerId) => {
      this.metrics.peers.set(network.connectedPeers().length)
      const member = ledger.isMemberPeer(peerId)
      this.log.info('peer connected', { peer: peerId, member })
      this.events.emit('peer:connect', { peerId, member })
    })
    network.onPeerDisconnect((peerId) => {
      this.metrics.peers.set(network.connectedPeers().length)
      this.events.emit('peer:disconnect', { peerId })
    })
    this.log.info('node started', {
      peerId: this.peerId,
      meshId: this.meshId,
      addrs: this.addrs(),
      entries: this.dag.size,
      replayed,
      verifyThreads: this.verifyPool?.threads ?? 0,
      measurement: this.measurement,
      member: ledger.isMember(this.publicKey),
      zone: ledger.zone()
    })
    const expected = init.zone
    if (expected !== undefined && ledger.zone() !== null && expected !== ledger.zone()) {
      this.log.warn(
        'zone differs from membership record; the membership record wins', { expected, zone: ledger.zone() }
      )
    }
  }

  /** Stops the services (in reverse), libp2p and the store, after pending writes finish. */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const s of [...this.services].reverse()) await s.stop()
    await this.libp2p?.stop()
    await this.ledger.flushed()
    await this.verifyPool?.close()
    await this.store?.close()
    this.log.info('node stopped', { peerId: this.peerId })
  }

  private verifyPool: VerifyPool | undefined

  private startVerifyPool (threads: number | undefined): (
    (entries: Uint8Array[]) => Promise<VerifiedBatch>
  ) | undefined {
    if (threads === 0) return undefined
    const pool = this.verifyPool = new VerifyPool({ threads })
    return async (entries) => await pool.verify(entries)
  }

  addrs (): string[] {
    return this.libp2p?.getMultiaddrs().map(a => a.toString()) ?? []
  }

  /** Zone of this node from governance, or null if it is not a member. */
  zone (): string | null { return this.ledger.zone() }
  isMember (keyHex: string): boolean { return this.ledger.isMember(keyHex) }
  isMemberPeer (peer: string): boolean { return this.ledger.isMemberPeer(peer) }

  status (): NodeStatus {
    const gov = this.dag.currentGovernance()
    return {
      peerId: this.peerId,
      publicKey: this.publicKey,
      addrs: this.addrs(),
      meshId: this.meshId,
      meshName: gov.meshName,
      zone: this.zone(),
      member: gov.members.has(this.publicKey),
      measurement: this.measurement,
      policyDigest: this.policy.digest(),
      hasPolicy: this.policy.hasPolicy,
      heads: this.dag.heads(),
      entries: this.dag.size,
      pending: this.dag.pendingCount,
      peers: this.network?.connectedPeers().length ?? 0,
      frontier: this.dag.frontier(),
      uptimeMs: Date.now() - this.startedAt
    }
  }
}

/**
 * Creates and starts a node from its data directory (which must hold `node.key`,
 * written by `govmesh init`) and the mesh genesis.
 *
 * @example
 * ```ts
 * const genesis = decodeGenesisFile(readFileSync('genesis.json', 'utf8'))
 * const node = await createGovmeshNode({ dataDir: './data', genesis, listen: ['/ip4/0.0.0.0/tcp/4001'] })
 * ```
 */
export async function createGovmeshNode (init: GovmeshNodeInit): Promise<GovmeshNode> {
  const keys = decodeKeyFile(readFileSync(join(init.dataDir, 'node.key'), 'utf8'), nodeCrypto)
  const node = new GovmeshNode(init, keys)
  try {
    await node.start()
  } catch (err) {
    await node.stop().catch(() => {})
    throw err
  }
  return node
}

import './polyfill.js'
import { EventEmitter } from 'node:events'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { TopicValidatorResult, type Connection, type Message, type PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import {
  cidOfBytes, createDag, createPolicyState, decodeHeartbeat, decodeKeyFile, encodeHeartbeat, GovmeshError,
  gossipVerdict, headsHash, nextEntry, observeHeartbeat, shouldReport, peerIdFromPublicKey, toHex, verifyEquivocationEvidence, type EquivocationEvidence,
  type Dag, type EntryBody, type EntryType, type KeyPair, type PolicyState, type PolicyUpdateBody, type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { createMeshLibp2p, type MeshLibp2p } from './libp2p.js'
import { createLogger, type Logger } from './logger.js'
import { measureRuntime } from './measurement.js'
import { NodeMetrics } from './metrics.js'
import { keyOfPeer, type PeerRecord } from './peers.js'
import { entriesTopic, EXEC_PROTOCOL, heartbeatsTopic, SYNC_PROTOCOL } from './protocol.js'
import { ExecEngine } from './exec.js'
import type { ExecutorConfig } from './executors.js'
import { TrustTracker } from './trust-tracker.js'
import { clearRefillMarker, NodeRefillingError, readRefillMarker, type RefillMarker } from './refill.js'
import { Store, type StoredEntry } from './store.js'
import { ConnectionGuard } from './connection-guard.js'
import { StreamGuard } from './stream-guard.js'
import { SyncEngine } from './sync.js'

/** Where an entry came from; a label on metrics and logs. */
export type EntrySource = 'api' | 'local' | 'gossip' | 'sync' | 'disk'

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
}

/** Outcome of offering one entry. */
export interface IngestOutcome {
  status: 'accepted' | 'pending' | 'duplicate' | 'rejected'
  id?: string
  reason?: string
  message?: string
  missing?: string[]
}

export interface NodeStatus {
  peerId: string
  publicKey: string
  addrs: string[]
  meshId: string
  meshName: string
  zone: string | null
  member: boolean
  measurement: string
  policyDigest: string
  hasPolicy: boolean
  heads: string[]
  entries: number
  pending: number
  peers: number
  frontier: Record<string, number>
  uptimeMs: number
}

/**
 * One govmesh node: the lineage DAG and policy of its mesh, persisted in level,
 * replicated over libp2p gossipsub (speed) and the sync protocol (correctness).
 * Events: `entry:added`, `entry:rejected`, `peer:connect`, `peer:disconnect`,
 * `policy:changed`, `heartbeat:received`.
 *
 * @example
 * ```ts
 * const node = await createGovmeshNode({ dataDir, genesis, bootstrap: [addr] })
 * node.on('entry:added', (e) => console.log(e.id))
 * await node.stop()
 * ```
 */
export class GovmeshNode extends EventEmitter {
  readonly keys: KeyPair
  readonly publicKey: string
  readonly peerId: string
  readonly dag: Dag
  readonly policy: PolicyState
  readonly metrics = new NodeMetrics()
  readonly log: Logger
  readonly measurement: string
  readonly meshId: string
  readonly peerRecords = new Map<string, PeerRecord>()
  libp2p!: MeshLibp2p
  readonly trust: TrustTracker
  /** Inbound stream admission and per-peer rates (sync, exec). */
  readonly streams = new StreamGuard(this)
  /** Bumped whenever who may connect can have changed: a membership entry or a pending entry arrived. */
  membershipEpoch = 0
  private readonly connections: ConnectionGuard
  exec!: ExecEngine
  private store!: Store
  private sync!: SyncEngine
  private writeChain: Promise<void> = Promise.resolve()
  private trustDirty = false
  private timers: NodeJS.Timeout[] = []
  private readonly startedAt = Date.now()
  private stopped = false
  /** Set after `store rebuild` until sync brings back this node's own chain. */
  private refill: RefillMarker | undefined

  constructor (private readonly init: GovmeshNodeInit, keys: KeyPair) {
    super()
    this.keys = keys
    this.publicKey = toHex(keys.publicKey)
    this.peerId = peerIdFromPublicKey(keys.publicKey)
    this.log = init.logger ?? createLogger({ name: 'govmesh' })
    this.dag = createDag({ genesis: init.genesis, crypto: nodeCrypto, maxPending: init.maxPending })
    this.meshId = this.dag.meshIdString
    this.policy = createPolicyState({ crypto: nodeCrypto })
    const genesisPolicy = init.genesis.entry.body.policy
    if (genesisPolicy.length > 0) this.policy.apply(genesisPolicy)
    this.measurement = init.measurement ?? measureRuntime()
    this.trust = new TrustTracker(this)
    this.connections = new ConnectionGuard(this, init.bootstrap ?? [])
  }

  /** Whether acknowledged writes are fsynced (see {@link GovmeshNodeInit.fsync}). */
  get fsync (): boolean { return this.init.fsync === true }

  /** Opens the store, replays it, starts libp2p, gossip, sync and heartbeats. */
  async start (): Promise<void> {
    mkdirSync(this.init.dataDir, { recursive: true })
    this.store = await Store.open({ path: join(this.init.dataDir, 'db'), meshId: this.meshId })
    this.refill = readRefillMarker(this.init.dataDir)
    if (this.store.migratedFrom !== undefined) {
      this.log.info('store migrated: integrity record computed from what the store holds', { fromSchema: this.store.migratedFrom })
    }
    let replayed = 0
    for await (const bytes of this.store.replay()) {
      // Stored entries were validated before they were written: skip signature checks.
      const r = this.dag.add(bytes, { verified: true })
      for (const e of r.accepted) this.applyEffects(e)
      replayed++
    }
    for await (const bytes of this.store.pending()) {
      try { this.dag.add(bytes) } catch { /* no longer valid: left out */ }
    }
    if (replayed === 0) await this.persist([this.dag.genesis], { sync: true })
    if (this.refill !== undefined) this.checkRefilled()
    this.updateGauges()

    this.libp2p = await createMeshLibp2p({
      seed: this.keys.secretKey,
      listen: this.init.listen,
      bootstrap: this.init.bootstrap,
      mdns: this.init.mdns,
      maxConnections: this.init.maxConnections,
      // Entries and heartbeats are signed by their authors; a second libp2p signature adds nothing.
      signMessages: false,
      isBlocked: (peer) => this.blocked.has(peer),
      admitPeer: (peer, direction) => this.connections.admit(peer, direction),
      // The message id is the entry CID, so the same entry from two publishers is one message.
      msgIdFn: (msg) => msg.topic === entriesTopic(this.meshId) ? cidOfBytes(msg.data, nodeCrypto).bytes : cidOfBytes(concat(msg.topic, msg.data), nodeCrypto).bytes
    })
    const pubsub = this.libp2p.services.pubsub
    pubsub.topicValidators.set(entriesTopic(this.meshId), async (peer, msg) => this.validateGossipEntry(peer, msg))
    pubsub.topicValidators.set(heartbeatsTopic(this.meshId), async (peer, msg) => this.validateHeartbeat(peer, msg))
    pubsub.subscribe(entriesTopic(this.meshId))
    pubsub.subscribe(heartbeatsTopic(this.meshId))

    this.sync = new SyncEngine(this)
    await this.libp2p.handle(SYNC_PROTOCOL, (data) => { this.sync.serve(data.stream, data.connection) }, { maxInboundStreams: 32 })
    this.exec = new ExecEngine(this, this.init.executors)
    await this.libp2p.handle(EXEC_PROTOCOL, (data) => { this.exec.handle(data.stream, data.connection) }, { maxInboundStreams: 256 })
    this.libp2p.addEventListener('peer:connect', (evt) => { this.onPeerConnect(evt.detail) })
    this.libp2p.addEventListener('peer:disconnect', (evt) => {
      this.updateGauges(true)
      this.emit('peer:disconnect', { peerId: evt.detail.toString() })
    })

    const antiEntropy = setInterval(() => {
      this.redialBootstrap()
      void this.sync.withRandomPeer()
    }, this.init.antiEntropyMs ?? 2000)
    this.timers.push(antiEntropy)
    this.scheduleHeartbeat(50)
    this.log.info('node started', {
      peerId: this.peerId,
      meshId: this.meshId,
      addrs: this.addrs(),
      entries: this.dag.size,
      replayed,
      measurement: this.measurement,
      member: this.isMember(this.publicKey),
      zone: this.zone()
    })
    const expected = this.init.zone
    if (expected !== undefined && this.zone() !== null && expected !== this.zone()) {
      this.log.warn('zone differs from membership record; the membership record wins', { expected, zone: this.zone() })
    }
  }

  /** Stops timers, libp2p and the store, after pending writes finish. */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const t of this.timers) clearInterval(t)
    this.timers = []
    await this.libp2p?.stop()
    await this.writeChain
    await this.store?.close()
    this.log.info('node stopped', { peerId: this.peerId })
  }

  addrs (): string[] {
    return this.libp2p?.getMultiaddrs().map(a => a.toString()) ?? []
  }

  /** Zone of this node from governance, or null if it is not a member. */
  zone (): string | null {
    return this.dag.currentGovernance().members.get(this.publicKey)?.zone ?? null
  }

  isMember (keyHex: string): boolean {
    return this.dag.currentGovernance().members.has(keyHex)
  }

  /** True if the libp2p peer is a current member of the mesh. */
  isMemberPeer (peer: PeerId | string): boolean {
    const key = keyOfPeer(peer.toString())
    return key !== undefined && this.isMember(key)
  }

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
      peers: this.libp2p?.getPeers().length ?? 0,
      frontier: this.dag.frontier(),
      uptimeMs: Date.now() - this.startedAt
    }
  }

  /**
   * Offers entries from any source: validates with the core rules, persists what is
   * accepted (in causal order, one atomic batch), applies effects, and returns one
   * outcome per input. Resolves only after the accepted entries are on disk.
   */
  async ingest (items: Array<Uint8Array | SignedEntry>, source: EntrySource, opts: { publish?: boolean, sync?: boolean, verified?: boolean } = {}): Promise<IngestOutcome[]> {
    const end = this.metrics.ingestSeconds.startTimer()
    const accepted: SignedEntry[] = []
    const outcomes: IngestOutcome[] = []
    const pendingNew: Array<{ id: string, bytes: Uint8Array }> = []
    const droppedPending: string[] = []
    const equivocations: EquivocationEvidence[] = []
    for (const bytes of items) {
      try {
        const r = this.dag.add(bytes, { verified: opts.verified === true })
        accepted.push(...r.accepted)
        for (const rej of r.rejected) {
          droppedPending.push(rej.id)
          this.metrics.reject(rej.error.code, source)
          this.log.warn('pending entry rejected', { id: rej.id, reason: rej.error.code, message: rej.error.message })
        }
        for (const ev of r.equivocations) {
          this.log.warn('equivocation detected', { a: cidOfBytes(ev.a, nodeCrypto).toString(), b: cidOfBytes(ev.b, nodeCrypto).toString() })
          equivocations.push(ev)
        }
        if (r.status === 'pending') pendingNew.push({ id: r.id, bytes: bytes instanceof Uint8Array ? bytes : bytes.bytes })
        outcomes.push(r.status === 'pending' ? { status: 'pending', id: r.id, missing: r.missing } : { status: r.status, id: r.id })
      } catch (err) {
        const reason = err instanceof GovmeshError ? err.code : 'entry.malformed'
        this.metrics.reject(reason, source)
        outcomes.push({ status: 'rejected', reason, message: (err as Error).message })
        this.emit('entry:rejected', { reason, source, message: (err as Error).message })
        if (source !== 'sync') this.log.warn('entry rejected', { source, reason, message: (err as Error).message })
      }
    }
    // A pending entry may be an admit: the peer it names may connect from now on.
    if (pendingNew.length > 0) this.membershipEpoch++
    await this.persist(accepted, { sync: opts.sync, pending: pendingNew, dropped: droppedPending })
    const policyBefore = this.policy.digest()
    const listening = this.listenerCount('entry:added') > 0
    for (const e of accepted) {
      this.applyEffects(e)
      if (listening) this.emit('entry:added', { id: e.id, type: e.entry.type, author: toHex(e.entry.author), seq: e.entry.seq, source })
    }
    if (accepted.length > 0) this.metrics.accepted.inc({ source }, accepted.length)
    if (opts.publish === true) {
      // Not awaited: the write is durable already, and gossip is only the fast path.
      for (const e of accepted) void this.publish(e)
    }
    if (this.trustDirty) {
      this.trustDirty = false
      this.trust.invalidate()
    }
    if (this.policy.digest() !== policyBefore) {
      this.emit('policy:changed', { digest: this.policy.digest() })
      this.log.info('policy changed', { digest: this.policy.digest() })
      await this.store.putPolicyState(this.policy.encodeState())
    }
    if (this.refill !== undefined) this.checkRefilled()
    this.updateGauges()
    end()
    for (const ev of equivocations) void this.reportEquivocation(ev)
    return outcomes
  }

  /** Authors, stores and publishes this node's own next entry. */
  async append<T extends EntryType> (type: T, body: EntryBody<T>, parents?: SignedEntry['cid'][]): Promise<SignedEntry<T>> {
    if (this.refill !== undefined) throw new NodeRefillingError(this.dag.frontier()[this.publicKey] ?? 0, this.refill.seq)
    const signed = nextEntry(this.dag, this.keys, { type, body, parents }, nodeCrypto)
    // Just signed here: no need to verify our own signature again.
    const [outcome] = await this.ingest([signed], 'local', { publish: true, sync: this.fsync, verified: true })
    if (outcome?.status !== 'accepted') throw new Error(`own entry not accepted: ${outcome?.reason ?? outcome?.status} ${outcome?.message ?? ''}`)
    return signed
  }

  /** Asks libp2p to dial a peer (e.g. a bootstrap address given to `govmesh join`). */
  async dial (addr: string): Promise<string> {
    this.connections.nameByOperator(addr)
    const conn = await this.libp2p.dial(multiaddr(addr))
    return conn.remotePeer.toString()
  }

  private async publish (e: SignedEntry): Promise<void> {
    try {
      await this.libp2p.services.pubsub.publish(entriesTopic(this.meshId), e.bytes)
    } catch (err) {
      // Gossip is for speed only: sync delivers whatever gossip misses.
      this.log.debug('gossip publish failed', { id: e.id, error: (err as Error).message })
    }
  }

  private applyEffects (e: SignedEntry): void {
    const t = e.entry.type
    if (t === 'trust.fail' || t === 'trust.restore' || t === 'member.admit' || t === 'member.remove') this.trustDirty = true
    if (t === 'member.admit' || t === 'member.remove') this.membershipEpoch++
    // A removed member keeps no connection: it would otherwise hold a slot it may no longer have.
    if (t === 'member.remove' && this.libp2p !== undefined) void this.connections.sweep()
    if (t === 'policy.update') {
      try {
        this.policy.apply((e.entry.body as PolicyUpdateBody).update)
      } catch (err) {
        this.log.warn('policy update could not be applied', { id: e.id, error: (err as Error).message })
      }
    }
  }

  private async persist (accepted: SignedEntry[], opts: { sync?: boolean, pending?: Array<{ id: string, bytes: Uint8Array }>, dropped?: string[] } = {}): Promise<void> {
    const stored: StoredEntry[] = accepted.map(e => ({
      id: e.id,
      bytes: e.bytes,
      author: toHex(e.entry.author),
      seq: e.entry.seq,
      deps: [...(e.entry.prev !== null ? [e.entry.prev.toString()] : []), ...e.entry.parents.map(p => p.toString())]
    }))
    // One chain keeps level writes in acceptance order, so a crash never stores a child without its parent.
    const write = this.writeChain.then(async () => {
      await this.store.putAccepted(stored, { sync: opts.sync })
      for (const p of opts.pending ?? []) await this.store.putPending(p.id, p.bytes)
      if ((opts.dropped ?? []).length > 0) await this.store.deletePending(opts.dropped ?? [])
    })
    this.writeChain = write.catch((err: unknown) => { this.log.error('store write failed', { error: (err as Error).message }) })
    await write
  }

  private checkRefilled (): void {
    const own = this.dag.frontier()[this.publicKey] ?? 0
    if (this.refill === undefined || own < this.refill.seq) return
    this.log.info('store refilled: own entries back from peers, authoring again', { seq: own, damagedStore: this.refill.damagedStore })
    this.refill = undefined
    clearRefillMarker(this.init.dataDir)
  }

  /** Cheap counters after every ingest; the peer gauge only changes on connect and disconnect. */
  private updateGauges (peers = false): void {
    this.metrics.entries.set(this.dag.size)
    this.metrics.pending.set(this.dag.pendingCount)
    if (peers) this.metrics.peers.set(this.libp2p?.getPeers().length ?? 0)
  }

  private onPeerConnect (peer: PeerId): void {
    this.updateGauges(true)
    const peerId = peer.toString()
    const member = this.isMemberPeer(peerId)
    this.log.info('peer connected', { peer: peerId, member })
    this.emit('peer:connect', { peerId, member })
    if (member) void this.sync.withPeer(peerId)
  }

  private async validateGossipEntry (peer: PeerId, msg: Message): Promise<TopicValidatorResult> {
    if (!this.isMemberPeer(peer)) {
      this.metrics.gossip.inc({ topic: 'entries', result: 'reject' })
      this.metrics.reject('gossip.non-member', 'gossip')
      return TopicValidatorResult.Reject
    }
    const [outcome] = await this.ingest([msg.data], 'gossip')
    const verdict = gossipVerdict(outcome?.status)
    const result = verdict === 'accept'
      ? TopicValidatorResult.Accept
      : verdict === 'reject' ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore
    this.metrics.gossip.inc({ topic: 'entries', result: outcome?.status ?? 'unknown' })
    if (outcome?.reason === 'entry.bad-signature') {
      // Relays forward only validated messages, so the direct sender made this one.
      const key = keyOfPeer(peer.toString())
      if (key !== undefined) void this.reportOnce(key, 'sent an entry with an invalid signature', 'signature', { entry: msg.data })
    }
    // Parents unknown: fetch them in order from the peer that has them.
    if (outcome?.status === 'pending') void this.sync.withPeer(peer.toString(), { minIntervalMs: 250 })
    return result
  }

  private async validateHeartbeat (peer: PeerId, msg: Message): Promise<TopicValidatorResult> {
    const reject = (reason: string): TopicValidatorResult => {
      this.metrics.gossip.inc({ topic: 'heartbeats', result: 'reject' })
      this.metrics.reject(reason, 'heartbeat')
      return TopicValidatorResult.Reject
    }
    if (!this.isMemberPeer(peer)) return reject('gossip.non-member')
    let hb
    try {
      hb = decodeHeartbeat(msg.data, nodeCrypto)
    } catch (err) {
      return reject(err instanceof GovmeshError ? err.code : 'heartbeat.malformed')
    }
    const from = peerIdFromPublicKey(hb.node)
    const now = Date.now()
    const prior = this.peerRecords.get(hb.nodeHex)
    const outcome = observeHeartbeat(hb, {
      now,
      isMember: this.isMember(hb.nodeHex),
      prior: prior?.lastSeen != null ? { time: prior.lastSeenTime ?? 0, driftSince: prior.driftSince } : undefined,
      policyDigest: this.policy.digest(),
      measurements: this.policy.document().measurements,
      entries: this.dag.size,
      headsHash: this.ownHeadsHash()
    })
    if (outcome.verdict === 'reject') return reject(outcome.reason)
    if (outcome.verdict === 'ignore') return TopicValidatorResult.Ignore
    const record: PeerRecord = {
      peerId: from,
      key: hb.nodeHex,
      lastSeen: now,
      lastSeenTime: hb.time,
      measurement: hb.measurement,
      policyDigest: hb.policyDigest,
      entries: hb.entries,
      headsHash: hb.headsHash,
      addrs: hb.addrs,
      driftSince: outcome.driftSince
    }
    this.peerRecords.set(hb.nodeHex, record)
    this.maybeDial(record)
    if (outcome.report !== undefined) void this.reportOnce(hb.nodeHex, outcome.report.reason, outcome.report.detector, { heartbeat: msg.data })
    this.metrics.gossip.inc({ topic: 'heartbeats', result: 'accepted' })
    this.emit('heartbeat:received', record)
    if (outcome.sync) void this.sync.withPeer(from, { minIntervalMs: 2000 })
    return TopicValidatorResult.Accept
  }

  private readonly blocked = new Set<string>()
  private headsHashCache: { size: number, hash: string } | undefined

  /** Hash of our heads; heads only change when an entry is accepted, i.e. when the size changes. */
  private ownHeadsHash (): string {
    if (this.headsHashCache?.size !== this.dag.size) this.headsHashCache = { size: this.dag.size, hash: headsHash(this.dag.heads(), nodeCrypto) }
    return this.headsHashCache.hash
  }

  /** Replaces the set of peers this node refuses to talk to, and hangs up on them. */
  async setBlocked (peers: string[]): Promise<void> {
    this.blocked.clear()
    for (const p of peers) this.blocked.add(p)
    for (const conn of this.libp2p.getConnections()) {
      if (this.blocked.has(conn.remotePeer.toString())) await conn.close().catch(() => conn.abort(new Error('blocked')))
    }
    this.log.info('peer block list set', { blocked: peers.length })
  }

  blockedPeers (): string[] { return [...this.blocked] }

  private readonly dialAttempts = new Map<string, number>()
  private readonly reporting = new Set<string>()

  /**
   * Authors a `trust.fail` about a peer unless this node already has an open one
   * about it: detectors fire on every heartbeat, reports should not.
   */
  async reportOnce (subjectKey: string, reason: string, detector: string, evidence: Record<string, unknown> | null): Promise<SignedEntry | undefined> {
    const view = this.trust.current()
    const report = shouldReport({
      subject: subjectKey,
      self: this.publicKey,
      selfIsMember: this.isMember(this.publicKey),
      inFlight: this.reporting.has(subjectKey),
      openReportBySelf: view.failures.some(f => f.subject === subjectKey && f.reporter === this.publicKey && !view.cleared.has(f.id))
    })
    if (!report) return undefined
    this.reporting.add(subjectKey)
    try {
      const entry = await this.append('trust.fail', { subject: Buffer.from(subjectKey, 'hex'), reason, detector, evidence })
      this.log.warn('trust failure reported', { subject: peerIdFromPublicKey(Buffer.from(subjectKey, 'hex')), detector, reason, cid: entry.id })
      return entry
    } catch (err) {
      this.log.error('could not report trust failure', { error: (err as Error).message })
      return undefined
    } finally {
      this.reporting.delete(subjectKey)
    }
  }

  private async reportEquivocation (ev: EquivocationEvidence): Promise<void> {
    try {
      const proof = verifyEquivocationEvidence(ev, nodeCrypto)
      await this.reportOnce(proof.author, `equivocation at seq ${proof.seq}`, 'equivocation', { a: ev.a, b: ev.b })
    } catch (err) {
      this.log.warn('equivocation evidence did not verify', { error: (err as Error).message })
    }
  }

  private lastBootstrapDial = 0

  /**
   * With no member connected, dial the bootstrap peers again: a bootstrap node that refused us
   * (our admit had not reached it yet) lets us in once it has, and @libp2p/bootstrap dials only once.
   */
  private redialBootstrap (): void {
    const list = this.init.bootstrap ?? []
    if (list.length === 0 || Date.now() - this.lastBootstrapDial < 2000) return
    if (this.libp2p.getPeers().some(p => this.isMemberPeer(p))) return
    this.lastBootstrapDial = Date.now()
    for (const addr of list) {
      void this.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(5000) }).catch((err: unknown) => {
        this.log.debug('bootstrap dial failed', { addr, error: (err as Error).message })
      })
    }
  }

  /** Members find each other beyond the bootstrap node through heartbeat addresses. */
  private maybeDial (record: PeerRecord): void {
    if (record.key === this.publicKey || record.addrs.length === 0 || this.blocked.has(record.peerId)) return
    if (this.connectionsTo(record.peerId).length > 0) return
    if (this.libp2p.getConnections().length >= (this.init.maxConnections ?? 64) / 2) return
    const last = this.dialAttempts.get(record.key) ?? 0
    if (Date.now() - last < 5000) return
    this.dialAttempts.set(record.key, Date.now())
    void this.libp2p.dial(record.addrs.map(a => multiaddr(a))).catch((err: unknown) => {
      this.log.debug('dial from heartbeat failed', { peer: record.peerId, error: (err as Error).message })
    })
  }

  private scheduleHeartbeat (delay: number): void {
    if (this.stopped) return
    const t = setTimeout(() => {
      void this.sendHeartbeat().finally(() => { this.scheduleHeartbeat(this.policy.document().timing.heartbeatMs) })
    }, delay)
    this.timers.push(t)
  }

  private async sendHeartbeat (): Promise<void> {
    if (this.stopped) return
    const bytes = encodeHeartbeat({
      measurement: this.measurement,
      policyDigest: this.init.advertiseDigest ?? this.policy.digest(),
      entries: this.dag.size,
      headsHash: this.ownHeadsHash(),
      addrs: this.addrs().slice(0, 16),
      time: Date.now()
    }, this.keys, nodeCrypto)
    try {
      await this.libp2p.services.pubsub.publish(heartbeatsTopic(this.meshId), bytes)
    } catch (err) {
      this.log.debug('heartbeat publish failed', { error: (err as Error).message })
    }
  }

  /** For the sync engine: the connection objects to a peer. */
  connectionsTo (peerId: string): Connection[] {
    return this.libp2p.getConnections().filter(c => c.remotePeer.toString() === peerId)
  }
}

function concat (topic: string, data: Uint8Array): Uint8Array {
  const t = new TextEncoder().encode(topic)
  const out = new Uint8Array(t.length + data.length)
  out.set(t, 0)
  out.set(data, t.length)
  return out
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

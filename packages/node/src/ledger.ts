import {
  cidOfBytes, createDag, entryDepIds, createPolicyState, entryEffects, GovmeshError, nextEntry, nextSealedEntries,
  peerIdFromPublicKey, SEALABLE_TYPES, keyHex, toHex, type SealedRecord,
  type Dag, type DagHistory, type EntryBody, type EntryType, type EquivocationEvidence, type KeyPair,
  type PolicyState,
  type CryptoProvider, type PolicyUpdateBody, type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { NodeRefillingError, OwnEntryRejectedError } from './errors.js'
import type { EntrySource, NodeEventBus } from './events.js'
import type { Logger } from './logger.js'
import { encodeMetaRecord } from './meta-record.js'
import type { NodeMetrics } from './metrics.js'
import { keyOfPeer } from './peers.js'
import type { RefillMarker } from './refill.js'
import type { StoredEntry, StoreOp } from './store.js'
import { LineageSealer } from './sealer.js'

/** Outcome of offering one entry. */
export interface IngestOutcome {
  status: 'accepted' | 'pending' | 'duplicate' | 'rejected'
  id?: string
  reason?: string
  message?: string
  missing?: string[]
}

export interface IngestOptions {
  /** Gossip what is accepted (the caller's own writes and API submissions). */
  publish?: boolean
  /** fsync the batch before resolving. */
  sync?: boolean
  /** The signatures were checked already (own entries, the store's own replay). */
  verified?: boolean
  /** The items (by identity) whose signatures were checked already, for exactly their bytes (the verify pool). */
  preVerified?: ReadonlySet<Uint8Array | SignedEntry>
}

/** Offers entries from any source and resolves once what was accepted is on disk. */
export type Ingest = (items: Array<Uint8Array | SignedEntry>, source: EntrySource, opts?: IngestOptions) =>
Promise<IngestOutcome[]>

/** Authors, stores and publishes this node's own next entry. */
export type Append = <T extends EntryType>(type: T, body: EntryBody<T>, parents?: Array<SignedEntry['cid']>) =>
Promise<SignedEntry<T>>

/**
 * Where the ledger writes: the level store in the daemon, memory in the simulated mesh. Writes
 * must be applied in call order, whether or not the caller awaits each one first.
 */
export interface LedgerStore {
  /** One atomic batch: the entries, and `extraOps` (the DAG checkpoint) with them. */
  putAccepted: (entries: StoredEntry[], opts: { sync?: boolean, extraOps?: StoreOp[] }) => Promise<void>
  putPending: (id: string, bytes: Uint8Array) => Promise<void>
  deletePending: (ids: string[]) => Promise<void>
}

/**
 * How accepted entries become a store batch when the DAG's history lives in the store: the
 * entries' stored form (with their metadata records) and the checkpoint writes for the same batch.
 */
export interface BatchPreparer {
  /** Called synchronously right after the DAG accepted `accepted`, so the checkpoint is of exactly them. */
  prepare: (
    dag: Dag, accepted: SignedEntry[], equivocations: EquivocationEvidence[]
  ) => { entries: StoredEntry[], extraOps: StoreOp[] }
  /** The batch holding these entries is on disk. */
  written: (ids: string[]) => void
}

/** Told about every accepted batch, in acceptance order, after it is on disk. */
export type AcceptedListener = (entries: SignedEntry[], info: { source: EntrySource, publish: boolean }) => void

export interface LedgerInit {
  genesis: SignedEntry<'mesh.genesis'>
  keys: KeyPair
  /** fsync every write of this node's own entries. */
  fsync?: boolean
  maxPending?: number
  /** Set after `store rebuild`: author nothing until the own chain is back to this seq. */
  refill?: RefillMarker
  /** Called once the own chain is back (the marker file is removed). */
  onRefilled?: () => void
  /** The primitives (default node:crypto); the simulated mesh shares verifications between its nodes. */
  crypto?: CryptoProvider
  /** Where the DAG keeps accepted entries (default: memory); the daemon's store. */
  history?: DagHistory
  /**
   * Seal execution records in batches under one signature (protocol v2, docs/LINEAGE-BATCHES.md).
   * @defaultValue true
   */
  sealLineage?: boolean
}

export interface LedgerComponents {
  store: LedgerStore
  metrics: NodeMetrics
  events: NodeEventBus
  logger: Logger
  /** With a store-backed history: metadata records and checkpoints go in each batch. */
  batches?: BatchPreparer
}

/**
 * The node's lineage and policy: the DAG (core's rules decide), the Yjs policy it folds, and
 * the one write path. Every entry, from any source and the node's own, goes through
 * {@link Ledger.ingest}: validated by core, written to the store in acceptance order in one
 * batch, then its effects applied and listeners told. Holds no socket.
 *
 * @example
 * ```ts
 * const ledger = new Ledger({ genesis, keys }, { store, metrics, events, logger })
 * const entry = await ledger.append('trust.fail', body)
 * ```
 */
export class Ledger {
  readonly dag: Dag
  readonly policy: PolicyState
  readonly keys: KeyPair
  readonly publicKey: string
  readonly peerId: string
  readonly meshId: string
  readonly crypto: CryptoProvider
  /** Bumped whenever who may connect can have changed: a membership entry or a pending entry arrived. */
  membershipEpoch = 0
  private readonly listeners: AcceptedListener[] = []
  private readonly equivocationListeners: Array<(ev: EquivocationEvidence) => void> = []
  private writeChain: Promise<void> = Promise.resolve()
  private refill: RefillMarker | undefined
  private readonly sealer: LineageSealer | undefined

  constructor (private readonly init: LedgerInit, private readonly components: LedgerComponents) {
    this.keys = init.keys
    this.crypto = init.crypto ?? nodeCrypto
    this.publicKey = toHex(init.keys.publicKey)
    this.peerId = peerIdFromPublicKey(init.keys.publicKey)
    this.dag = createDag({
      genesis: init.genesis, crypto: this.crypto, maxPending: init.maxPending, history: init.history
    })
    this.meshId = this.dag.meshIdString
    this.policy = createPolicyState({ crypto: this.crypto })
    const genesisPolicy = init.genesis.entry.body.policy
    if (genesisPolicy.length > 0) this.policy.apply(genesisPolicy)
    this.refill = init.refill
    this.sealer = init.sealLineage === false
      ? undefined
      : new LineageSealer(async (records) => await this.seal(records))
  }

  /** Listens to every accepted batch (gossip publishes, trust re-derives, connections sweep). */
  onAccepted (fn: AcceptedListener): void { this.listeners.push(fn) }

  /** Listens to equivocations the DAG detects (the reporter turns them into `trust.fail`). */
  onEquivocation (fn: (ev: EquivocationEvidence) => void): void { this.equivocationListeners.push(fn) }

  /** Whether this node seals its execution records (protocol version 2: every peer reads batches). */
  get sealsLineage (): boolean { return this.sealer !== undefined }

  /** Whether acknowledged own writes are fsynced. */
  get fsync (): boolean { return this.init.fsync === true }

  /** Zone of this node from governance, or null if it is not a member. */
  zone (): string | null {
    return this.dag.currentGovernance().members.get(this.publicKey)?.zone ?? null
  }

  isMember (keyHex: string): boolean {
    return this.dag.currentGovernance().members.has(keyHex)
  }

  /** True if the libp2p peer is a current member of the mesh. */
  isMemberPeer (peerId: string): boolean {
    const key = keyOfPeer(peerId)
    return key !== undefined && this.isMember(key)
  }

  /**
   * Offers the store's pending entries again (their signatures are checked); any whose parents
   * are known now is written like any accepted entry.
   */
  async loadPending (pending: Uint8Array[]): Promise<void> {
    const accepted: SignedEntry[] = []
    const equivocations: EquivocationEvidence[] = []
    for (const bytes of pending) {
      try {
        const r = this.dag.add(bytes)
        accepted.push(...r.accepted)
        equivocations.push(...r.equivocations)
      } catch { /* no longer valid: left out */ }
    }
    this.applyLoaded(accepted)
    if (accepted.length > 0) await this.persist(accepted, { equivocations })
  }

  /** Folds what entries read back from the store derive (the policy), without writing them. */
  applyLoaded (entries: readonly SignedEntry[]): void {
    for (const e of entries) this.applyPolicy(e)
  }

  /** Loading is done: the refill check and gauges. */
  loaded (): void {
    this.checkRefilled()
    this.updateGauges()
  }

  /** Writes the genesis into an empty store. */
  async writeGenesis (): Promise<void> {
    await this.persist([this.dag.genesis], { sync: true })
  }

  /**
   * Offers entries from any source: validates with the core rules, persists what is
   * accepted (in causal order, one atomic batch), applies effects, and returns one
   * outcome per input. Resolves only after the accepted entries are on disk.
   */
  readonly ingest: Ingest = async (items, source, opts = {}) => {
    const { metrics, logger, events } = this.components
    const end = metrics.ingestSeconds.startTimer()
    const accepted: SignedEntry[] = []
    const outcomes: IngestOutcome[] = []
    const pendingNew: Array<{ id: string, bytes: Uint8Array }> = []
    const droppedPending: string[] = []
    const equivocations: EquivocationEvidence[] = []
    for (const bytes of items) {
      try {
        const r = this.dag.add(bytes, { verified: opts.verified === true || opts.preVerified?.has(bytes) === true })
        accepted.push(...r.accepted)
        for (const rej of r.rejected) {
          droppedPending.push(rej.id)
          metrics.reject(rej.error.code, source)
          logger.warn('pending entry rejected', { id: rej.id, reason: rej.error.code, message: rej.error.message })
        }
        for (const ev of r.equivocations) {
          const a = cidOfBytes(ev.a, this.crypto).toString()
          logger.warn('equivocation detected', { a, b: cidOfBytes(ev.b, this.crypto).toString() })
          equivocations.push(ev)
        }
        if (r.status === 'pending') pendingNew.push(
          { id: r.id, bytes: bytes instanceof Uint8Array ? bytes : bytes.bytes }
        )
        outcomes.push(
          r.status === 'pending' ? { status: 'pending', id: r.id, missing: r.missing } : { status: r.status, id: r.id }
        )
      } catch (err) {
        const reason = err instanceof GovmeshError ? err.code : 'entry.malformed'
        const message = (err as Error).message
        metrics.reject(reason, source)
        outcomes.push({ status: 'rejected', reason, message })
        events.emit('entry:rejected', { reason, source, message })
        if (source !== 'sync') logger.warn('entry rejected', { source, reason, message })
      }
    }
    // A pending entry may be an admit: the peer it names may connect from now on.
    if (pendingNew.length > 0) this.membershipEpoch++
    await this.persist(accepted, { sync: opts.sync, pending: pendingNew, dropped: droppedPending, equivocations })
    const policyBefore = this.policy.digest()
    const listening = events.listening('entry:added')
    for (const e of accepted) {
      if (entryEffects(e.entry.type).membership) this.membershipEpoch++
      this.applyPolicy(e)
      if (listening) {
        events.emit(
          'entry:added', { id: e.id, type: e.entry.type, author: keyHex(e.entry.author), seq: e.entry.seq, source }
        )
      }
    }
    if (accepted.length > 0) {
      metrics.accepted.inc({ source }, accepted.length)
      for (const fn of this.listeners) fn(accepted, { source, publish: opts.publish === true })
    }
    const digest = this.policy.digest()
    if (digest !== policyBefore) {
      events.emit('policy:changed', { digest })
      logger.info('policy changed', { digest })
    }
    this.checkRefilled()
    this.updateGauges()
    end()
    for (const ev of equivocations) for (const fn of this.equivocationListeners) fn(ev)
    return outcomes
  }

  /** Authors, stores and publishes this node's own next entry; it passes the checks a peer's entry passes. */
  readonly append: Append = async (type, body, parents) => {
    if (this.sealer !== undefined && SEALABLE_TYPES.has(type)) {
      const sealed = await this.sealer.append({ type, body, parents, time: Date.now() })
      return sealed as SignedEntry<typeof type>
    }
    this.assertAuthoring()
    const signed = nextEntry(this.dag, this.keys, { type, body, parents }, this.crypto)
    // Just signed here: no need to verify our own signature again.
    const [outcome] = await this.ingest([signed], 'local', { publish: true, sync: this.fsync, verified: true })
    if (outcome?.status !== 'accepted') {
      throw new OwnEntryRejectedError(outcome?.reason ?? outcome?.status ?? 'unknown', outcome?.message ?? '')
    }
    return signed
  }

  /**
   * One batch of execution records: sealed under one signature on top of the DAG, then ingested as
   * one store write, exactly as a peer's entries are checked. Per record, its entry or why it was refused.
   */
  private async seal (records: SealedRecord[]): Promise<Array<SignedEntry | Error>> {
    this.assertAuthoring()
    const batch = nextSealedEntries(this.dag, this.keys, records, this.crypto)
    // Just sealed here: the batch signature needs no second check.
    const outcomes = await this.ingest(batch, 'local', { publish: true, sync: this.fsync, verified: true })
    this.components.metrics.sealedBatches.inc()
    this.components.metrics.sealedRecords.inc(batch.length)
    return batch.map((entry, i) => {
      const o = outcomes[i]
      return o?.status === 'accepted'
        ? entry
        : new OwnEntryRejectedError(o?.reason ?? o?.status ?? 'unknown', o?.message ?? '')
    })
  }

  private assertAuthoring (): void {
    if (this.refill !== undefined) throw new NodeRefillingError(
      this.dag.frontier()[this.publicKey] ?? 0, this.refill.seq
    )
  }

  /** Resolves once every write started so far is on disk (or failed and was logged). */
  async flushed (): Promise<void> {
    await this.writeChain
  }

  private applyPolicy (e: SignedEntry): void {
    if (!entryEffects(e.entry.type).policy) return
    try {
      this.policy.apply((e.entry.body as PolicyUpdateBody).update)
    } catch (err) {
      this.components.logger.warn('policy update could not be applied', { id: e.id, error: (err as Error).message })
    }
  }

  private async persist (
    accepted: SignedEntry[],
    opts: {
      sync?: boolean, pending?: Array<{ id: string, bytes: Uint8Array }>, dropped?: string[],
      equivocations?: EquivocationEvidence[]
    } = {}
  ): Promise<void> {
    const { store, logger, batches } = this.components
    // Prepared now, synchronously after the DAG accepted exactly these: the checkpoint is of this batch.
    const batch = batches?.prepare(this.dag, accepted, opts.equivocations ?? []) ??
      { entries: accepted.map(e => storedForm(e, this.dag)), extraOps: [] }
    // The store applies writes in call order (acceptance order), so a crash never stores a child without its
    // parent; called at once, not chained, so concurrent ingests share one batch and one fsync (group commit).
    const put = store.putAccepted(batch.entries, { sync: opts.sync, extraOps: batch.extraOps })
      .then(() => { batches?.written(batch.entries.map(e => e.id)) })
    const writes = [put]
    for (const p of opts.pending ?? []) writes.push(store.putPending(p.id, p.bytes))
    if ((opts.dropped ?? []).length > 0) writes.push(store.deletePending(opts.dropped ?? []))
    const write = Promise.all(writes)
    const logged = write.then(() => undefined, (err: unknown) => {
      logger.error('store write failed', { error: (err as Error).message })
    })
    this.writeChain = Promise.all([this.writeChain, logged]).then(() => undefined)
    await write
  }

  private checkRefilled (): void {
    if (this.refill === undefined) return
    const own = this.dag.frontier()[this.publicKey] ?? 0
    if (own < this.refill.seq) return
    this.components.logger.info('store refilled: own entries back from peers, authoring again', {
      seq: own, damagedStore: this.refill.damagedStore
    })
    this.refill = undefined
    this.init.onRefilled?.()
  }

  /** Cheap counters after every ingest. */
  private updateGauges (): void {
    this.components.metrics.entries.set(this.dag.size)
    this.components.metrics.pending.set(this.dag.pendingCount)
  }
}

/** An accepted entry as the store indexes it (with the metadata record the DAG derived). */
function storedForm (e: SignedEntry, dag: Dag): StoredEntry {
  return {
    meta: encodeMetaRecord(dag.meta(e.id)!),
    id: e.id,
    bytes: e.bytes,
    author: keyHex(e.entry.author),
    seq: e.entry.seq,
    // cidString (in entryDepIds) reads the ids the DAG's index already holds.
    deps: entryDepIds(e)
  }
}

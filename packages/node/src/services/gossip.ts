import {
  cidOfBytes, decodeGossipBatch, GovmeshError, gossipBatches, gossipBatchVerdict, gossipVerdict, isGossipBatch,
  MAX_GOSSIP_BATCH_BYTES, MAX_GOSSIP_BATCH_ENTRIES, SEALABLE_TYPES, SEALED_ENTRY_VERSION, type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { GOSSIP_COALESCE_MS, SYNC_ON_PENDING_MIN_INTERVAL_MS } from '../constants.js'
import type { AcceptedListener, Ingest } from '../ledger.js'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'
import type { GossipResult, MeshNetwork } from '../network.js'
import { keyOfPeer } from '../peers.js'
import type { TrustReporter } from './reporter.js'
import type { Startable } from './startable.js'

export interface GossipServiceInit {
  /** The entries topic of the mesh. */
  topic: string
  /**
   * How long sealed execution records wait to share a gossip message with the next ones
   * (docs/PROTOCOL.md §18.2). Governance and trust entries never wait. 0: every accepted batch
   * goes out at once.
   * @defaultValue {@link GOSSIP_COALESCE_MS}
   */
  coalesceMs?: number
  /**
   * Execution records of version 1 (signed one by one, e.g. posted through the API) wait and
   * share messages too. Only where every peer reads batch messages: a node that seals.
   */
  batchExecutionRecords?: boolean
}

export interface GossipComponents {
  network: MeshNetwork
  ingest: Ingest
  isMemberPeer: (peerId: string) => boolean
  onAccepted: (fn: AcceptedListener) => void
  reporter: Pick<TrustReporter, 'reportOnce'>
  /** Pull from a peer (at most once per interval). */
  sync: (peerId: string, opts: { minIntervalMs: number }) => void
  metrics: NodeMetrics
  logger: Logger
}

/**
 * The entries topic: publishes what this node writes or is handed through its API, and judges
 * every gossiped entry through the one ingest path (core decides; {@link gossipVerdict} maps the
 * outcome). Gossip is the fast path only: sync delivers whatever it misses.
 */
export class GossipService implements Startable {
  /** Sealed entries accepted and stored, by id in acceptance order, waiting (at most `coalesceMs`) to go out. */
  private readonly waiting = new Map<string, SignedEntry>()
  private waitingBytes = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly coalesceMs: number

  constructor (private readonly init: GossipServiceInit, private readonly components: GossipComponents) {
    this.coalesceMs = init.coalesceMs ?? GOSSIP_COALESCE_MS
  }

  start (): void {
    const { network, onAccepted } = this.components
    network.subscribe(this.init.topic, async (from, data) => await this.validate(from, data))
    onAccepted((entries, info) => { if (info.publish) this.offer(entries) })
  }

  /** What is still waiting goes out now: a stopping node's last records are not held back. */
  stop (): void {
    this.flush()
  }

  /**
   * Publishes what this node stored (not awaited: the write is durable already). Sealed records
   * wait for the next ones, so under load a node sends about one entries message per
   * `coalesceMs` however many executions it records; the round trip of an execution never waits
   * for gossip (its lineage travels in the exec frames). Any other entry flushes the waiting
   * records first, then goes at once, so messages leave in acceptance (causal) order.
   */
  private offer (entries: readonly SignedEntry[]): void {
    for (const e of entries) {
      if (this.batchable(e)) { this.hold(e); continue }
      this.flush()
      void this.publish(e.bytes)
    }
    if (this.coalesceMs <= 0) this.flush()
    else if (this.waiting.size > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => { this.timer = undefined; this.flush() }, this.coalesceMs)
    }
  }

  /** Execution records only: governance and trust entries always go alone and at once. */
  private batchable (e: SignedEntry): boolean {
    if (e.entry.v === SEALED_ENTRY_VERSION) return true
    return this.init.batchExecutionRecords === true && SEALABLE_TYPES.has(e.entry.type)
  }

  private hold (e: SignedEntry): void {
    // A full message goes at once rather than waiting to be split.
    const full = this.waiting.size >= MAX_GOSSIP_BATCH_ENTRIES ||
      this.waitingBytes + e.bytes.length > MAX_GOSSIP_BATCH_BYTES / 2
    if (full) this.flush()
    this.waiting.set(e.id, e)
    this.waitingBytes += e.bytes.length
  }

  /** This node's record `id` while it waits to be gossiped (an exec frame carries it instead, §21.2). */
  unpublished (id: string): SignedEntry | undefined {
    return this.waiting.get(id)
  }

  private flush (): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined }
    if (this.waiting.size === 0) return
    const batch = Array.from(this.waiting.values(), e => e.bytes)
    this.waiting.clear()
    this.waitingBytes = 0
    for (const data of gossipBatches(batch)) void this.publish(data)
  }

  private async publish (data: Uint8Array): Promise<void> {
    try {
      await this.components.network.publish(this.init.topic, data)
    } catch (err) {
      this.components.logger.debug('gossip publish failed', { bytes: data.length, error: (err as Error).message })
    }
  }

  private async validate (peer: string, data: Uint8Array): Promise<GossipResult> {
    const { ingest, isMemberPeer, reporter, sync, metrics } = this.components
    if (!isMemberPeer(peer)) {
      metrics.gossip.inc({ topic: 'entries', result: 'reject' })
      metrics.reject('gossip.non-member', 'gossip')
      return 'reject'
    }
    const batch = isGossipBatch(data)
    let entries: Uint8Array[]
    if (batch) {
      try {
        entries = decodeGossipBatch(data)
      } catch (err) {
        const reason = err instanceof GovmeshError ? err.code : 'entry.malformed'
        metrics.gossip.inc({ topic: 'entries-batch', result: 'rejected' })
        metrics.reject(reason, 'gossip')
        this.components.logger.warn('gossip batch rejected', { from: peer, reason, message: (err as Error).message })
        return 'reject'
      }
    } else {
      entries = [data]
    }
    // A batch is one ingest: one pass of the rules, one store write.
    const outcomes = await ingest(entries, 'gossip')
    outcomes.forEach((outcome, i) => {
      if (outcome.reason === 'entry.bad-signature') {
        // Relays forward only validated messages, so the direct sender made this one.
        const key = keyOfPeer(peer)
        if (key !== undefined) void reporter.reportOnce(
          key, 'sent an entry with an invalid signature', 'signature', { entry: entries[i]! }
        )
      }
    })
    // Parents unknown: fetch them in order from the peer that has them.
    if (outcomes.some(o => o.status === 'pending')) sync(peer, { minIntervalMs: SYNC_ON_PENDING_MIN_INTERVAL_MS })
    if (!batch) {
      metrics.gossip.inc({ topic: 'entries', result: outcomes[0]?.status ?? 'unknown' })
      return gossipVerdict(outcomes[0]?.status)
    }
    const verdict = gossipBatchVerdict(outcomes.map(o => o.status))
    metrics.gossip.inc({ topic: 'entries-batch', result: BATCH_RESULT[verdict] })
    return verdict
  }
}

/** A batch message's result in `govmesh_gossip_messages_total{topic="entries-batch"}`. */
const BATCH_RESULT = { accept: 'accepted', reject: 'rejected', ignore: 'ignored' } as const

/**
 * The gossipsub message id, on every topic: the CID of the data, one SHA-256 per copy received.
 * On the entries topic that is the entry's CID (the same entry from two publishers is one
 * message). It must be a hash of the content: gossipsub marks an id seen before the validator
 * runs, so an id a forger could reproduce would let it suppress the genuine message.
 */
export function gossipMessageId (): (msg: { data: Uint8Array }) => Uint8Array {
  return (msg) => cidOfBytes(msg.data, nodeCrypto).bytes
}

/**
 * Creates the gossip service.
 *
 * @example
 * ```ts
 * const gossip = gossipService({ topic: entriesTopic(meshId) })(components)
 * gossip.start()
 * ```
 */
export function gossipService (init: GossipServiceInit): (components: GossipComponents) => GossipService {
  return (components) => new GossipService(init, components)
}

import type { HistoryIndex } from '../history-index.js'
import { missingFor } from '../history-queries.js'
import type { Dag } from '@govmesh/core'
import {
  DEFAULT_ANTI_ENTROPY_MS, MAX_INBOUND_SYNC_STREAMS, SYNC_OPEN_TIMEOUT_MS, SYNC_READ_TIMEOUT_MS
} from '../constants.js'
import { SyncProtocolError } from '../errors.js'
import { FramedStream, type FramedDuplex } from '../framing.js'
import type { Ingest, IngestOutcome } from '../ledger.js'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'
import type { MeshNetwork } from '../network.js'
import { pickRandom } from '../nonce.js'
import {
  decodeSyncMessage, encodeSyncMessage, SYNC_BATCH_BYTES, SYNC_BATCH_ENTRIES, SYNC_DONE, SYNC_ENTRIES,
  SYNC_FRONTIER, SYNC_MAX_FRAME_BYTES, SYNC_PROTOCOL
} from '../protocol.js'
import type { VerifiedBatch } from '../verify-pool.js'
import type { StreamGuard } from './streams.js'
import type { Startable } from './startable.js'

export interface SyncServiceInit {
  meshId: string
  /** Pull from one random member this often. @defaultValue {@link DEFAULT_ANTI_ENTROPY_MS} */
  antiEntropyMs?: number
  /** Run on every anti-entropy tick too (the connection service's bootstrap redial). */
  onTick?: () => void
}

export interface SyncComponents {
  dag: Dag
  /** Where serving reads the entries a peer lacks (the store's order index in the daemon). */
  history: HistoryIndex
  ingest: Ingest
  /** Checks a batch's signatures off this thread (the verify pool); without it ingest checks them. */
  verify?: (entries: Uint8Array[]) => Promise<VerifiedBatch>
  network: MeshNetwork
  isMemberPeer: (peerId: string) => boolean
  streams: StreamGuard
  /** Whether an anti-entropy round could find anything (core's `antiEntropyNeeded`). @defaultValue always */
  antiEntropyNeeded?: () => boolean
  metrics: NodeMetrics
  logger: Logger
}

/** Batches read ahead while earlier ones are verified or written (bounds memory per session). */
const MAX_INFLIGHT_BATCHES = 4
/** Entries in the first batch a responder sends; later batches double up to SYNC_BATCH_ENTRIES. */
const FIRST_SYNC_BATCH_ENTRIES = 50

/**
 * The sync protocol (`/govmesh/sync/1.0.0`), pull-based: the initiator sends its
 * frontier (author → highest seq); the responder streams, in causal order and in
 * bounded batches, every entry the initiator lacks, then `done`. Both sides pull
 * on connect, and anti-entropy pulls from a random peer periodically (while some peer
 * advertises other heads), so healed partitions and late joiners converge without gossip.
 */
export class SyncService implements Startable {
  /** The run in progress per peer. */
  private readonly active = new Map<string, Promise<void>>()
  private readonly lastRun = new Map<string, number>()
  private readonly rerun = new Set<string>()
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly init: SyncServiceInit, private readonly components: SyncComponents) {}

  async start (): Promise<void> {
    const { network, isMemberPeer } = this.components
    await network.handle(SYNC_PROTOCOL, (stream, from) => { this.serve(stream, from) }, {
      maxInboundStreams: MAX_INBOUND_SYNC_STREAMS
    })
    network.onPeerConnect((peerId) => { if (isMemberPeer(peerId)) void this.withPeer(peerId) })
    this.timer = setInterval(() => {
      this.init.onTick?.()
      if (this.components.antiEntropyNeeded?.() ?? true) void this.withRandomPeer()
    }, this.init.antiEntropyMs ?? DEFAULT_ANTI_ENTROPY_MS)
  }

  stop (): void {
    clearInterval(this.timer)
  }

  /** Pulls from one random connected member. */
  async withRandomPeer (): Promise<void> {
    const { network, isMemberPeer } = this.components
    const peer = pickRandom(network.connectedPeers().filter(p => isMemberPeer(p)))
    if (peer !== undefined) await this.withPeer(peer)
  }

  /**
   * Pulls from `peerId`; concurrent requests for one peer coalesce into one follow-up run. Resolves
   * when a pull begun after the call has ended (or at once, when `minIntervalMs` skips it).
   */
  async withPeer (peerId: string, opts: { minIntervalMs?: number } = {}): Promise<void> {
    const running = this.active.get(peerId)
    if (running !== undefined) { this.rerun.add(peerId); return await running }
    const last = this.lastRun.get(peerId) ?? 0
    if (opts.minIntervalMs !== undefined && Date.now() - last < opts.minIntervalMs) return
    const run = (async () => {
      try {
        do {
          this.rerun.delete(peerId)
          this.lastRun.set(peerId, Date.now())
          await this.pull(peerId)
        } while (this.rerun.has(peerId))
      } finally {
        this.active.delete(peerId)
      }
    })()
    this.active.set(peerId, run)
    await run
  }

  private async pull (peerId: string): Promise<void> {
    const { dag, ingest, network, metrics, logger } = this.components
    if (!network.isConnected(peerId)) return
    let framed: FramedStream | undefined
    let received = 0
    // Batches whose signatures are being checked (by the pool) or whose disk write is running, oldest first.
    const inflight: Array<Promise<IngestOutcome[]>> = []
    let ingestTail: Promise<unknown> = Promise.resolve()
    try {
      const stream = await network.openStream(
        peerId, SYNC_PROTOCOL, { signal: AbortSignal.timeout(SYNC_OPEN_TIMEOUT_MS) }
      )
      framed = new FramedStream(stream, { maxFrameBytes: SYNC_MAX_FRAME_BYTES, readTimeoutMs: SYNC_READ_TIMEOUT_MS })
      await framed.write(encodeSyncMessage({ t: SYNC_FRONTIER, mesh: this.init.meshId, frontier: dag.frontier() }))
      await framed.closeWrite()
      for (;;) {
        const frame = await framed.read()
        if (frame === undefined) throw new SyncProtocolError('stream ended before done')
        const msg = decodeSyncMessage(frame)
        if (msg.t === SYNC_DONE) break
        if (msg.t !== SYNC_ENTRIES) throw new SyncProtocolError(`unexpected ${msg.t} from responder`)
        if (msg.entries.length > SYNC_BATCH_ENTRIES * 2) throw new SyncProtocolError('batch too large')
        received += msg.entries.length
        metrics.syncEntries.inc({ direction: 'received' }, msg.entries.length)
        // Validation is synchronous at the start of ingest; its disk write (and, with a pool, the signature
        // checks of the next batches) overlaps reading the next batch. Batches are ingested in arrival order.
        const entries = msg.entries
        const verify = this.components.verify
        let next: Promise<IngestOutcome[]>
        if (verify === undefined) {
          next = ingest(entries, 'sync')
        } else {
          const checked = verify(entries)
          const started = ingestTail.then(async () => {
            const { items, verified } = await checked
            return { outcome: ingest(items, 'sync', { preVerified: verified }) }
          })
          ingestTail = started
          next = started.then(async s => await s.outcome)
        }
        inflight.push(next)
        while (inflight.length > (verify === undefined ? 1 : MAX_INFLIGHT_BATCHES)) {
          this.report(peerId, await inflight.shift()!)
        }
      }
      while (inflight.length > 0) this.report(peerId, await inflight.shift()!)
      await framed.close()
      metrics.syncSessions.inc({ role: 'initiator', result: 'ok' })
      if (received > 0) logger.info('synced from peer', { peer: peerId, received, entries: dag.size })
    } catch (err) {
      for (const p of inflight) p.catch(() => { /* the session failed; the ledger logs its own write errors */ })
      metrics.syncSessions.inc({ role: 'initiator', result: 'error' })
      if (err instanceof SyncProtocolError) metrics.reject('sync.protocol', 'sync')
      logger.warn('sync pull failed', { peer: peerId, error: (err as Error).message, received })
      framed?.abort(err as Error)
    }
  }

  private report (peerId: string, outcomes: IngestOutcome[]): void {
    const bad = outcomes.filter(o => o.status === 'rejected')
    if (bad.length > 0) {
      this.components.streams.warn('sync', peerId, 'peer sent invalid entries', {
        rejected: bad.length, reason: bad[0]?.reason, message: bad[0]?.message
      })
    }
  }

  /** Serves one pull from a peer; non-members and peers over their stream rate get nothing. */
  serve (stream: FramedDuplex, from: string): void {
    const verdict = this.components.streams.admit('sync', from)
    if (!verdict.allow) {
      stream.abort(new SyncProtocolError(`sync refused: ${verdict.reason}`))
      return
    }
    void this.respond(stream, from)
  }

  private async respond (stream: FramedDuplex, peer: string): Promise<void> {
    const { dag, history, metrics, streams } = this.components
    const framed = new FramedStream(
      stream, { maxFrameBytes: SYNC_MAX_FRAME_BYTES, readTimeoutMs: SYNC_READ_TIMEOUT_MS }
    )
    try {
      const frame = await framed.read()
      if (frame === undefined) throw new SyncProtocolError('stream ended before frontier')
      const msg = decodeSyncMessage(frame)
      if (msg.t !== SYNC_FRONTIER) throw new SyncProtocolError(`expected frontier, got ${msg.t}`)
      if (msg.mesh !== this.init.meshId) throw new SyncProtocolError(`peer asks for mesh ${msg.mesh}`)
      let batch: Uint8Array[] = []
      let batchBytes = 0
      let sent = 0
      // The first batches are small and each one doubles: the peer starts checking entries while later
      // ones are still read here, instead of waiting for a full batch to be read first.
      let batchEntries = FIRST_SYNC_BATCH_ENTRIES
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return
        await framed.write(encodeSyncMessage({ t: SYNC_ENTRIES, entries: batch }))
        sent += batch.length
        batch = []
        batchBytes = 0
        batchEntries = Math.min(SYNC_BATCH_ENTRIES, batchEntries * 2)
      }
      for await (const id of missingFor(dag, history, msg.frontier)) {
        const bytes = dag.getBytes(id)!
        if (batchBytes + bytes.length > SYNC_BATCH_BYTES || batch.length >= batchEntries) await flush()
        batch.push(bytes)
        batchBytes += bytes.length
      }
      await flush()
      await framed.write(encodeSyncMessage({ t: SYNC_DONE, sent }))
      await framed.close()
      metrics.syncEntries.inc({ direction: 'sent' }, sent)
      metrics.syncSessions.inc({ role: 'responder', result: 'ok' })
    } catch (err) {
      metrics.syncSessions.inc({ role: 'responder', result: 'error' })
      metrics.reject(err instanceof SyncProtocolError ? 'sync.protocol' : 'sync.stream', 'sync')
      streams.warn('sync', peer, 'request failed', { reason: (err as Error).message })
      framed.abort(err as Error)
    }
  }
}

/**
 * Creates the sync service.
 *
 * @example
 * ```ts
 * const sync = syncService({ meshId })({ dag, ingest, network, isMemberPeer, streams, metrics, logger })
 * await sync.start()
 * ```
 */
export function syncService (init: SyncServiceInit): (components: SyncComponents) => SyncService {
  return (components) => new SyncService(init, components)
}

import type { Connection, Stream } from '@libp2p/interface'
import { FramedStream } from './framing.js'
import {
  decodeSyncMessage, encodeSyncMessage, SYNC_BATCH_BYTES, SYNC_BATCH_ENTRIES, SYNC_DONE, SYNC_ENTRIES,
  SYNC_FRONTIER, SYNC_MAX_FRAME_BYTES, SYNC_PROTOCOL, SyncProtocolError
} from './protocol.js'
import type { GovmeshNode, IngestOutcome } from './node.js'

const READ_TIMEOUT_MS = 15_000

/**
 * The sync protocol (`/govmesh/sync/1.0.0`), pull-based: the initiator sends its
 * frontier (author → highest seq); the responder streams, in causal order and in
 * bounded batches, every entry the initiator lacks, then `done`. Both sides pull
 * on connect, and anti-entropy pulls from a random peer periodically, so healed
 * partitions and late joiners converge without gossip.
 */
export class SyncEngine {
  private readonly active = new Set<string>()
  private readonly lastRun = new Map<string, number>()
  private rerun = new Set<string>()

  constructor (private readonly node: GovmeshNode) {}

  /** Pulls from one random connected member. */
  async withRandomPeer (): Promise<void> {
    const peers = this.node.libp2p.getPeers().map(p => p.toString()).filter(p => this.node.isMemberPeer(p))
    if (peers.length === 0) return
    await this.withPeer(peers[Math.floor(Math.random() * peers.length)]!)
  }

  /** Pulls from `peerId`; concurrent requests for one peer coalesce into one follow-up run. */
  async withPeer (peerId: string, opts: { minIntervalMs?: number } = {}): Promise<void> {
    if (this.active.has(peerId)) { this.rerun.add(peerId); return }
    const last = this.lastRun.get(peerId) ?? 0
    if (opts.minIntervalMs !== undefined && Date.now() - last < opts.minIntervalMs) return
    this.active.add(peerId)
    try {
      do {
        this.rerun.delete(peerId)
        this.lastRun.set(peerId, Date.now())
        await this.pull(peerId)
      } while (this.rerun.has(peerId))
    } finally {
      this.active.delete(peerId)
    }
  }

  private async pull (peerId: string): Promise<void> {
    const node = this.node
    const conn = node.connectionsTo(peerId).find(c => c.status === 'open')
    if (conn === undefined) return
    let framed: FramedStream | undefined
    let received = 0
    let inflight: Promise<IngestOutcome[]> | undefined
    try {
      const stream = await conn.newStream(SYNC_PROTOCOL, { signal: AbortSignal.timeout(5000), negotiateFully: false })
      framed = new FramedStream(stream, { maxFrameBytes: SYNC_MAX_FRAME_BYTES, readTimeoutMs: READ_TIMEOUT_MS })
      await framed.write(encodeSyncMessage({ t: SYNC_FRONTIER, mesh: node.meshId, frontier: node.dag.frontier() }))
      await framed.closeWrite()
      for (;;) {
        const frame = await framed.read()
        if (frame === undefined) throw new SyncProtocolError('stream ended before done')
        const msg = decodeSyncMessage(frame)
        if (msg.t === SYNC_DONE) break
        if (msg.t !== SYNC_ENTRIES) throw new SyncProtocolError(`unexpected ${msg.t} from responder`)
        if (msg.entries.length > SYNC_BATCH_ENTRIES * 2) throw new SyncProtocolError('batch too large')
        received += msg.entries.length
        node.metrics.syncEntries.inc({ direction: 'received' }, msg.entries.length)
        // Validation is synchronous at the start of ingest; its disk write overlaps reading the next batch.
        const next = node.ingest(msg.entries, 'sync')
        if (inflight !== undefined) this.report(peerId, await inflight)
        inflight = next
      }
      if (inflight !== undefined) this.report(peerId, await inflight)
      await framed.close()
      node.metrics.syncSessions.inc({ role: 'initiator', result: 'ok' })
      if (received > 0) node.log.info('synced from peer', { peer: peerId, received, entries: node.dag.size })
    } catch (err) {
      node.metrics.syncSessions.inc({ role: 'initiator', result: 'error' })
      if (err instanceof SyncProtocolError) node.metrics.reject('sync.protocol', 'sync')
      node.log.warn('sync pull failed', { peer: peerId, error: (err as Error).message, received })
      framed?.abort(err as Error)
    }
  }

  private report (peerId: string, outcomes: IngestOutcome[]): void {
    const bad = outcomes.filter(o => o.status === 'rejected')
    if (bad.length > 0) {
      this.node.streams.warn('sync', peerId, 'peer sent invalid entries', { rejected: bad.length, reason: bad[0]?.reason, message: bad[0]?.message })
    }
  }

  /** Serves one pull from a peer; non-members and peers over their stream rate get nothing. */
  serve (stream: Stream, connection: Connection): void {
    const verdict = this.node.streams.admit('sync', connection.remotePeer.toString())
    if (!verdict.allow) {
      stream.abort(new SyncProtocolError(`sync refused: ${verdict.reason}`))
      return
    }
    void this.respond(stream, connection)
  }

  private async respond (stream: Stream, connection: Connection): Promise<void> {
    const node = this.node
    const peer = connection.remotePeer.toString()
    const framed = new FramedStream(stream, { maxFrameBytes: SYNC_MAX_FRAME_BYTES, readTimeoutMs: READ_TIMEOUT_MS })
    try {
      const frame = await framed.read()
      if (frame === undefined) throw new SyncProtocolError('stream ended before frontier')
      const msg = decodeSyncMessage(frame)
      if (msg.t !== SYNC_FRONTIER) throw new SyncProtocolError(`expected frontier, got ${msg.t}`)
      if (msg.mesh !== node.meshId) throw new SyncProtocolError(`peer asks for mesh ${msg.mesh}`)
      let batch: Uint8Array[] = []
      let batchBytes = 0
      let sent = 0
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return
        await framed.write(encodeSyncMessage({ t: SYNC_ENTRIES, entries: batch }))
        sent += batch.length
        batch = []
        batchBytes = 0
      }
      for (const id of node.dag.missingFor(msg.frontier)) {
        const bytes = node.dag.getBytes(id)!
        if (batchBytes + bytes.length > SYNC_BATCH_BYTES || batch.length >= SYNC_BATCH_ENTRIES) await flush()
        batch.push(bytes)
        batchBytes += bytes.length
      }
      await flush()
      await framed.write(encodeSyncMessage({ t: SYNC_DONE, sent }))
      await framed.close()
      node.metrics.syncEntries.inc({ direction: 'sent' }, sent)
      node.metrics.syncSessions.inc({ role: 'responder', result: 'ok' })
    } catch (err) {
      node.metrics.syncSessions.inc({ role: 'responder', result: 'error' })
      node.metrics.reject(err instanceof SyncProtocolError ? 'sync.protocol' : 'sync.stream', 'sync')
      node.streams.warn('sync', peer, 'request failed', { reason: (err as Error).message })
      framed.abort(err as Error)
    }
  }
}

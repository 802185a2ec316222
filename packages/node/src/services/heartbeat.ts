import {
  connectIsNews, decodeHeartbeat, driftAfterOwnDigestChange, encodeHeartbeat, GovmeshError, headsHash,
  MAX_HEARTBEAT_BYTES, nextHeartbeatAt,
  observeHeartbeat, relayableHeartbeat, relayedLastSeen,
  type Dag, type CryptoProvider, type KeyPair, type PolicyState
} from '@govmesh/core'
import {
  CONNECT_REANNOUNCE_MS, FIRST_HEARTBEAT_DELAY_MS, HEARTBEAT_MAX_ADDRS, SYNC_ON_HEARTBEAT_MIN_INTERVAL_MS
} from '../constants.js'
import type { NodeEventBus } from '../events.js'
import { FramedStream } from '../framing.js'
import {
  decodeLatestHeartbeats, encodeLatestHeartbeats, HEARTBEATS_PROTOCOL, LATEST_HEARTBEATS_MAX_FRAME_BYTES
} from '../latest-heartbeats.js'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'
import { HeartbeatsProtocolError } from '../errors.js'
import type { FramedDuplex } from '../framing.js'
import type { GossipResult, MeshNetwork } from '../network.js'
import { peerIdOfKey, type PeerDirectory, type PeerRecord } from '../peers.js'
import type { TrustReporter } from './reporter.js'
import type { Startable } from './startable.js'
import type { StreamGuard } from './streams.js'

/** Joiners asking at once (a testnet starting) share these inbound streams. */
const MAX_INBOUND_LATEST_STREAMS = 16
const LATEST_HEARTBEATS_TIMEOUT_MS = 5000

export interface HeartbeatServiceInit {
  topic: string
  /** The mesh id, named in the latest-heartbeats frame (§19.4). */
  meshId: string
  /** This node's runtime measurement (hex), advertised in every heartbeat. */
  measurement: string
  /** Overrides the advertised policy digest (a testing aid to simulate drift). */
  advertiseDigest?: string
  /**
   * Send on the policy's timing: news (an accepted entry, a member connected) within `heartbeatMs`,
   * else a keep-alive every `staleMs / 2`. False: only {@link HeartbeatService.beat} sends. @defaultValue true
   */
  periodic?: boolean
}

export interface HeartbeatComponents {
  crypto: CryptoProvider
  keys: KeyPair
  dag: Dag
  policy: PolicyState
  network: MeshNetwork
  isMember: (key: string) => boolean
  isMemberPeer: (peerId: string) => boolean
  peers: PeerDirectory
  /** Admits inbound latest-heartbeats streams (members only, per-peer rate). */
  streams: Pick<StreamGuard, 'admit' | 'warn'>
  reporter: Pick<TrustReporter, 'reportOnce'>
  /** Pull from a peer (at most once per interval). */
  sync: (peerId: string, opts: { minIntervalMs: number }) => void
  /** A member advertised its addresses: dial it if not connected. */
  dial: (record: PeerRecord) => void
  /** Listens to accepted entries (news for peers: our entries and heads changed). */
  onAccepted: (fn: () => void) => void
  metrics: NodeMetrics
  events: NodeEventBus
  logger: Logger
}

/**
 * Signed attestation heartbeats: sends this node's own when it has news and as a keep-alive
 * otherwise (core's {@link nextHeartbeatAt}), and judges members' heartbeats with core's
 * {@link observeHeartbeat} into the peer directory (staleness, drift), reports (measurement
 * allowlist) and syncs (the peer has more). An idle mesh thus costs a keep-alive per member
 * every half stale window, not a heartbeat per member every `heartbeatMs`.
 */
export class HeartbeatService implements Startable {
  private timer: NodeJS.Timeout | undefined
  /** When the armed timer fires (local clock), or undefined when none is armed. */
  private armedAt: number | undefined
  private lastSentAt: number | null = null
  /** Something peers should hear about happened since the last heartbeat. */
  private news = true
  private stopped = false
  private headsHashCache: { size: number, hash: string } | undefined
  /** Each member's last recorded heartbeat as received, and when (local clock): what §19.4 hands a joiner. */
  private readonly latest = new Map<string, { bytes: Uint8Array, recordedAt: number }>()

  constructor (private readonly init: HeartbeatServiceInit, private readonly components: HeartbeatComponents) {}

  async start (): Promise<void> {
    const { network, isMemberPeer, events, onAccepted } = this.components
    network.subscribe(this.init.topic, async (from, data) => await this.validate(from, data))
    await network.handle(HEARTBEATS_PROTOCOL, (stream, from) => { void this.serveLatest(stream, from) }, {
      maxInboundStreams: MAX_INBOUND_LATEST_STREAMS
    })
    events.on('policy:changed', ({ digest }) => { this.rejudgeDrift(digest) })
    if (this.init.periodic === false) return
    onAccepted(() => { this.announce() })
    network.onPeerConnect((peer) => {
      if (!isMemberPeer(peer) || !connectIsNews(network.connectedPeers().filter(isMemberPeer).length)) return
      this.announce()
      // Our peers learn of us from that announcement; we learn of them from this one peer (§19.4).
      void this.pullLatest(peer)
      // Gossip published before the new peer joins our gossip mesh may miss it: say it again once it
      // has, and again while the meshes of the members around settle.
      for (const ms of CONNECT_REANNOUNCE_MS) setTimeout(() => { this.announce() }, ms).unref()
    })
    this.arm(Date.now() + FIRST_HEARTBEAT_DELAY_MS)
  }

  stop (): void {
    this.stopped = true
    clearTimeout(this.timer)
  }

  /** Hash of our heads; heads only change when an entry is accepted, i.e. when the size changes. */
  ownHeadsHash (): string {
    const { dag } = this.components
    if (this.headsHashCache?.size !== dag.size) this.headsHashCache = {
      size: dag.size, hash: headsHash(dag.heads(), this.components.crypto)
    }
    return this.headsHashCache.hash
  }

  /** There is news: the next heartbeat goes as soon as the policy's `heartbeatMs` allows. */
  private announce (): void {
    this.news = true
    this.arm(this.dueAt())
  }

  private dueAt (): number {
    const timing = this.components.policy.document().timing
    return nextHeartbeatAt({ now: Date.now(), lastSentAt: this.lastSentAt, changed: this.news, timing })
  }

  /** Arms the timer for `at` unless it already fires sooner; one timer, no work between heartbeats. */
  private arm (at: number): void {
    if (this.stopped || (this.armedAt !== undefined && this.armedAt <= at)) return
    clearTimeout(this.timer)
    this.armedAt = at
    this.timer = setTimeout(() => {
      this.armedAt = undefined
      void this.beat().finally(() => { this.arm(this.dueAt()) })
    }, Math.max(0, at - Date.now()))
  }

  /**
   * Our digest changed: a peer's drift is judged against the new one at once (§19.3), not only
   * when its next heartbeat arrives, which may be a keep-alive away.
   */
  private rejudgeDrift (digest: string): void {
    const { peers } = this.components
    const now = Date.now()
    for (const record of [...peers.values()]) {
      if (record.policyDigest === null) continue
      const driftSince = driftAfterOwnDigestChange(
        { policyDigest: record.policyDigest, driftSince: record.driftSince }, digest, now
      )
      if (driftSince !== record.driftSince) peers.set({ ...record, driftSince })
    }
  }

  /** Signs and publishes one heartbeat now. */
  async beat (): Promise<void> {
    if (this.stopped) return
    const { network, logger } = this.components
    this.lastSentAt = Date.now()
    this.news = false
    const bytes = this.signOwn()
    try {
      await network.publish(this.init.topic, bytes)
    } catch (err) {
      logger.debug('heartbeat publish failed', { error: (err as Error).message })
    }
  }

  /** A heartbeat of this node, signed now. */
  private signOwn (): Uint8Array {
    const { keys, dag, policy, network } = this.components
    return encodeHeartbeat({
      measurement: this.init.measurement,
      policyDigest: this.init.advertiseDigest ?? policy.digest(),
      entries: dag.size,
      headsHash: this.ownHeadsHash(),
      addrs: network.addrs().slice(0, HEARTBEAT_MAX_ADDRS),
      time: Date.now()
    }, keys, this.components.crypto)
  }

  /** The heartbeats topic validator (§19.2). */
  private async validate (peer: string, data: Uint8Array): Promise<GossipResult> {
    return this.judge(peer, data, Date.now(), 'heartbeats')
  }

  /**
   * Judges a heartbeat received from `peer` (by gossip, or handed over on joining) and records it as
   * seen at `seenAt` (local clock).
   */
  private judge (
    peer: string, data: Uint8Array, seenAt: number, topic: 'heartbeats' | 'heartbeats-latest'
  ): GossipResult {
    const { dag, policy, isMember, isMemberPeer, peers, reporter, metrics, events } = this.components
    const reject = (reason: string): GossipResult => {
      metrics.gossip.inc({ topic, result: 'reject' })
      metrics.reject(reason, 'heartbeat')
      return 'reject'
    }
    if (!isMemberPeer(peer)) return reject('gossip.non-member')
    let hb
    try {
      hb = decodeHeartbeat(data, this.components.crypto)
    } catch (err) {
      return reject(err instanceof GovmeshError ? err.code : 'heartbeat.malformed')
    }
    const from = peerIdOfKey(hb.nodeHex)
    const prior = peers.get(hb.nodeHex)
    const outcome = observeHeartbeat(hb, {
      now: seenAt,
      isMember: isMember(hb.nodeHex),
      prior: prior?.lastSeen != null ? { time: prior.lastSeenTime ?? 0, driftSince: prior.driftSince } : undefined,
      policyDigest: policy.digest(),
      measurements: policy.document().measurements,
      entries: dag.size,
      headsHash: this.ownHeadsHash()
    })
    if (outcome.verdict === 'reject') return reject(outcome.reason)
    if (outcome.verdict === 'ignore') return 'ignore'
    // A handed-over heartbeat older than the one we hold tells nothing new.
    if (prior?.lastSeen != null && prior.lastSeen > seenAt) return 'ignore'
    const record: PeerRecord = {
      peerId: from,
      key: hb.nodeHex,
      lastSeen: seenAt,
      lastSeenTime: hb.time,
      measurement: hb.measurement,
      policyDigest: hb.policyDigest,
      entries: hb.entries,
      headsHash: hb.headsHash,
      addrs: hb.addrs,
      driftSince: outcome.driftSince
    }
    peers.set(record)
    this.latest.set(hb.nodeHex, { bytes: data, recordedAt: seenAt })
    this.components.dial(record)
    if (outcome.report !== undefined) {
      void reporter.reportOnce(hb.nodeHex, outcome.report.reason, outcome.report.detector, { heartbeat: data })
    }
    metrics.gossip.inc({ topic, result: 'accepted' })
    events.emit('heartbeat:received', record)
    if (outcome.sync) this.components.sync(from, { minIntervalMs: SYNC_ON_HEARTBEAT_MIN_INTERVAL_MS })
    return 'accept'
  }

  /** Answers a joiner (§19.4): our own heartbeat, and those of members not stale to us, with their age. */
  private async serveLatest (stream: FramedDuplex, from: string): Promise<void> {
    const { streams, isMember, policy } = this.components
    if (!streams.admit('heartbeats', from).allow) { stream.abort(new Error('refused')); return }
    const framed = new FramedStream(stream, {
      maxFrameBytes: LATEST_HEARTBEATS_MAX_FRAME_BYTES, readTimeoutMs: LATEST_HEARTBEATS_TIMEOUT_MS
    })
    try {
      // The joiner's own heartbeat, when it sends one (older joiners close without writing): we learn
      // of it now rather than from a gossip announcement sent before its gossip mesh formed.
      const own = await framed.read()
      if (own !== undefined) {
        if (own.length > MAX_HEARTBEAT_BYTES) throw new HeartbeatsProtocolError('the joiner\'s heartbeat is too large')
        this.judge(from, own, Date.now(), 'heartbeats-latest')
      }
      const now = Date.now()
      const timing = policy.document().timing
      const fresh = [...this.latest]
        .filter(([key, r]) => isMember(key) && relayableHeartbeat(now - r.recordedAt, timing))
      // Our own first, signed now: the joiner is connected to us, but has not heard us yet either.
      await framed.write(encodeLatestHeartbeats(this.init.meshId, [
        { hb: this.signOwn(), age: 0 }, ...fresh.map(([, r]) => ({ hb: r.bytes, age: now - r.recordedAt }))
      ]))
      await framed.close()
    } catch (err) {
      if (err instanceof HeartbeatsProtocolError) this.components.metrics.reject(err.code, 'heartbeat')
      streams.warn('heartbeats', from, 'latest heartbeats not sent', { reason: (err as Error).message })
      framed.abort(err as Error)
    }
  }

  /** Asks the first member we connected to who is alive, and judges each heartbeat it hands over (§19.4). */
  private async pullLatest (peer: string): Promise<void> {
    const { network, metrics, logger, policy } = this.components
    let framed: FramedStream | undefined
    try {
      const stream = await network.openStream(peer, HEARTBEATS_PROTOCOL, {
        signal: AbortSignal.timeout(LATEST_HEARTBEATS_TIMEOUT_MS)
      })
      framed = new FramedStream(stream, {
        maxFrameBytes: LATEST_HEARTBEATS_MAX_FRAME_BYTES, readTimeoutMs: LATEST_HEARTBEATS_TIMEOUT_MS
      })
      // Our own heartbeat first: the peer has not heard us yet either (§19.4 step 1).
      await framed.write(this.signOwn())
      await framed.closeWrite()
      const frame = await framed.read()
      if (frame === undefined) throw new HeartbeatsProtocolError('stream ended before the answer')
      const { heartbeats } = decodeLatestHeartbeats(frame, this.init.meshId)
      await framed.close()
      const now = Date.now()
      const timing = policy.document().timing
      let recorded = 0
      // Judged (and so dialled) in random order: in the responder's order every joiner dialled the
      // testnet's first nodes, which then held most connections and did most of every join's work.
      for (const r of shuffled(heartbeats)) {
        if (this.judge(peer, r.hb, relayedLastSeen(now, r.age, timing), 'heartbeats-latest') === 'accept') recorded++
      }
      logger.info('latest heartbeats received', { peer, heartbeats: heartbeats.length, recorded })
    } catch (err) {
      if (err instanceof HeartbeatsProtocolError) metrics.reject(err.code, 'heartbeat')
      logger.warn('latest heartbeats not received', { peer, error: (err as Error).message })
      framed?.abort(err as Error)
    }
  }
}

/**
 * Creates the heartbeat service.
 *
 * @example
 * ```ts
 * const heartbeats = heartbeatService({ topic, measurement })(components)
 * heartbeats.start()
 * ```
 */
export function heartbeatService (init: HeartbeatServiceInit): (components: HeartbeatComponents) => HeartbeatService {
  return (components) => new HeartbeatService(init, components)
}

/** A copy of `items` in random order (Fisher–Yates). */
function shuffled<T> (items: readonly T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = out[i]!
    out[i] = out[j]!
    out[j] = t
  }
  return out
}

import {
  connectIsNews, decodeHeartbeat, driftAfterOwnDigestChange, encodeHeartbeat, GovmeshError, headsHash, nextHeartbeatAt,
  observeHeartbeat,
  type Dag, type CryptoProvider, type KeyPair, type PolicyState
} from '@govmesh/core'
import {
  CONNECT_REANNOUNCE_MS, FIRST_HEARTBEAT_DELAY_MS, HEARTBEAT_MAX_ADDRS, SYNC_ON_HEARTBEAT_MIN_INTERVAL_MS
} from '../constants.js'
import type { NodeEventBus } from '../events.js'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'
import type { GossipResult, MeshNetwork } from '../network.js'
import { peerIdOfKey, type PeerDirectory, type PeerRecord } from '../peers.js'
import type { TrustReporter } from './reporter.js'
import type { Startable } from './startable.js'

export interface HeartbeatServiceInit {
  topic: string
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

  constructor (private readonly init: HeartbeatServiceInit, private readonly components: HeartbeatComponents) {}

  start (): void {
    const { network, isMemberPeer, events, onAccepted } = this.components
    network.subscribe(this.init.topic, async (from, data) => await this.validate(from, data))
    events.on('policy:changed', ({ digest }) => { this.rejudgeDrift(digest) })
    if (this.init.periodic === false) return
    onAccepted(() => { this.announce() })
    network.onPeerConnect((peer) => {
      if (!isMemberPeer(peer) || !connectIsNews(network.connectedPeers().filter(isMemberPeer).length)) return
      this.announce()
      // Gossip published before the new peer joins our gossip mesh may miss it: say it again once it has.
      setTimeout(() => { this.announce() }, CONNECT_REANNOUNCE_MS).unref()
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
    const { keys, dag, policy, network, logger } = this.components
    this.lastSentAt = Date.now()
    this.news = false
    const bytes = encodeHeartbeat({
      measurement: this.init.measurement,
      policyDigest: this.init.advertiseDigest ?? policy.digest(),
      entries: dag.size,
      headsHash: this.ownHeadsHash(),
      addrs: network.addrs().slice(0, HEARTBEAT_MAX_ADDRS),
      time: Date.now()
    }, keys, this.components.crypto)
    try {
      await network.publish(this.init.topic, bytes)
    } catch (err) {
      logger.debug('heartbeat publish failed', { error: (err as Error).message })
    }
  }

  private async validate (peer: string, data: Uint8Array): Promise<GossipResult> {
    const { dag, policy, isMember, isMemberPeer, peers, reporter, metrics, events } = this.components
    const reject = (reason: string): GossipResult => {
      metrics.gossip.inc({ topic: 'heartbeats', result: 'reject' })
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
    const now = Date.now()
    const prior = peers.get(hb.nodeHex)
    const outcome = observeHeartbeat(hb, {
      now,
      isMember: isMember(hb.nodeHex),
      prior: prior?.lastSeen != null ? { time: prior.lastSeenTime ?? 0, driftSince: prior.driftSince } : undefined,
      policyDigest: policy.digest(),
      measurements: policy.document().measurements,
      entries: dag.size,
      headsHash: this.ownHeadsHash()
    })
    if (outcome.verdict === 'reject') return reject(outcome.reason)
    if (outcome.verdict === 'ignore') return 'ignore'
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
    peers.set(record)
    this.components.dial(record)
    if (outcome.report !== undefined) {
      void reporter.reportOnce(hb.nodeHex, outcome.report.reason, outcome.report.detector, { heartbeat: data })
    }
    metrics.gossip.inc({ topic: 'heartbeats', result: 'accepted' })
    events.emit('heartbeat:received', record)
    if (outcome.sync) this.components.sync(from, { minIntervalMs: SYNC_ON_HEARTBEAT_MIN_INTERVAL_MS })
    return 'accept'
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

import { multiaddr } from '@multiformats/multiaddr'
import {
  admitConnection, entryEffects, LogThrottle, PeerBackoff, pendingAdmitKeys, type ConnectionDirection,
  type ConnectionVerdict, type Dag
} from '@govmesh/core'
import {
  BOOTSTRAP_DIAL_TIMEOUT_MS, BOOTSTRAP_REDIAL_MS, DEFAULT_MAX_CONNECTIONS, DEFAULT_TARGET_PEERS,
  HEARTBEAT_DIAL_BACKOFF_MS, REFUSAL_LOG_INTERVAL_MS
} from '../constants.js'
import type { AcceptedListener } from '../ledger.js'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'
import type { MeshNetwork } from '../network.js'
import { keyOfPeer, type PeerRecord } from '../peers.js'
import type { Startable } from './startable.js'

export interface ConnectionGateComponents {
  dag: Dag
  isMemberPeer: (peerId: string) => boolean
  /** Bumped whenever who may connect can have changed (see Ledger.membershipEpoch). */
  membershipEpoch: () => number
  metrics: NodeMetrics
  logger: Logger
}

/**
 * The daemon side of the connection rule ({@link admitConnection} in core): gathers the facts about a
 * peer whose handshake just completed, applies the verdict, counts refusals and keeps the per-peer
 * backoff and the operator's block list. libp2p calls it from its connection gater, so an outsider is
 * hung up on before its connection exists and never holds one of the node's slots.
 */
export class ConnectionGate {
  private readonly backoff = new PeerBackoff()
  private readonly quiet = new LogThrottle({ intervalMs: REFUSAL_LOG_INTERVAL_MS })
  private readonly operatorNamed = new Set<string>()
  private readonly blocked = new Set<string>()

  constructor (private readonly components: ConnectionGateComponents, bootstrap: readonly string[]) {
    for (const addr of bootstrap) this.nameByOperator(addr)
  }

  /** Remembers the peer of an address the operator gave (bootstrap, join), so we may dial it. */
  nameByOperator (addr: string): void {
    try {
      const peer = multiaddr(addr).getPeerId()
      if (peer !== null) this.operatorNamed.add(peer)
    } catch { /* not a multiaddr: the dial itself reports it */ }
  }

  isBlocked (peerId: string): boolean { return this.blocked.has(peerId) }
  blockedPeers (): string[] { return [...this.blocked] }

  /** Replaces the block list; returns it. */
  setBlocked (peers: readonly string[]): string[] {
    this.blocked.clear()
    for (const p of peers) this.blocked.add(p)
    return this.blockedPeers()
  }

  /** True to keep the connection; a refusal is counted and logged (at most once per interval). */
  admit (peerId: string, direction: ConnectionDirection): boolean {
    const now = Date.now()
    const epoch = this.components.membershipEpoch()
    const verdict = admitConnection({
      direction,
      blocked: this.blocked.has(peerId),
      member: this.components.isMemberPeer(peerId),
      pendingAdmit: this.isPendingAdmit(peerId),
      operatorNamed: this.operatorNamed.has(peerId),
      backingOff: this.backoff.isBackingOff(peerId, now, epoch)
    })
    if (verdict.admit) {
      this.backoff.clear(peerId)
      return true
    }
    this.refused(peerId, direction, verdict, now, epoch)
    return false
  }

  private isPendingAdmit (peerId: string): boolean {
    const { dag } = this.components
    const key = keyOfPeer(peerId)
    if (key === undefined || dag.pendingCount === 0) return false
    return pendingAdmitKeys(dag.pendingOfType('member.admit'), dag.currentGovernance()).has(key)
  }

  private refused (
    peerId: string, direction: ConnectionDirection, verdict: ConnectionVerdict & { admit: false }, now: number,
    epoch: number
  ): void {
    this.components.metrics.outsidersRefused.inc({ reason: verdict.reason, direction })
    if (verdict.reason !== 'backoff') this.backoff.refuse(peerId, now, epoch)
    const held = this.quiet.admit('outsider', now)
    if (held === undefined) return
    this.components.logger.warn('connection refused: not a member', {
      peer: peerId, direction, reason: verdict.reason, suppressed: held
    })
  }
}

export interface ConnectionServiceInit {
  bootstrap?: string[]
  maxConnections?: number
}

export interface ConnectionServiceComponents {
  gate: ConnectionGate
  network: MeshNetwork
  /** This node's hex key. */
  self: string
  isMemberPeer: (peerId: string) => boolean
  onAccepted: (fn: AcceptedListener) => void
  logger: Logger
}

/**
 * Keeps the node connected to its mesh: redials bootstrap peers while no member is connected,
 * dials members it learns of from heartbeats, and hangs up on peers the connection rule no
 * longer keeps (a removed member, a blocked peer).
 */
export class ConnectionService implements Startable {
  private readonly dialAttempts = new Map<string, number>()
  private lastBootstrapDial = 0

  constructor (
    private readonly init: ConnectionServiceInit, private readonly components: ConnectionServiceComponents
  ) {}

  start (): void {
    this.components.onAccepted((entries) => {
      // A removed member keeps no connection: it would otherwise hold a slot it may no longer have.
      if (entries.some(e => entryEffects(e.entry.type).dropConnections)) void this.sweep()
    })
  }

  stop (): void {}

  /** How many peers this node dials on its own: the target, never more than half the connection slots. */
  private dialTarget (): number {
    return Math.min(DEFAULT_TARGET_PEERS, Math.floor((this.init.maxConnections ?? DEFAULT_MAX_CONNECTIONS) / 2))
  }

  /** Dials an address the operator gave (`govmesh join`). */
  async join (addr: string): Promise<string> {
    this.components.gate.nameByOperator(addr)
    return await this.components.network.dial([addr])
  }

  /** Replaces the block list and hangs up on the peers on it. */
  async setBlocked (peers: readonly string[]): Promise<string[]> {
    const list = this.components.gate.setBlocked(peers)
    for (const p of list) await this.components.network.hangUp(p)
    this.components.logger.info('peer block list set', { blocked: list.length })
    return list
  }

  /** Hangs up on every connected peer the rule no longer keeps (e.g. a member just removed). */
  async sweep (): Promise<void> {
    const { gate, network } = this.components
    for (const c of network.connections()) {
      if (!gate.admit(c.peerId, c.direction)) await network.hangUp(c.peerId)
    }
  }

  /**
   * With no member connected, dial the bootstrap peers again: a bootstrap node that refused us
   * (our admit had not reached it yet) lets us in once it has, and @libp2p/bootstrap dials only once.
   */
  redialBootstrap (): void {
    const { network, isMemberPeer, logger } = this.components
    const list = this.init.bootstrap ?? []
    if (list.length === 0 || Date.now() - this.lastBootstrapDial < BOOTSTRAP_REDIAL_MS) return
    if (network.connectedPeers().some(p => isMemberPeer(p))) return
    this.lastBootstrapDial = Date.now()
    for (const addr of list) {
      void network.dial([addr], { signal: AbortSignal.timeout(BOOTSTRAP_DIAL_TIMEOUT_MS) }).catch((err: unknown) => {
        logger.debug('bootstrap dial failed', { addr, error: (err as Error).message })
      })
    }
  }

  /** Members find each other beyond the bootstrap node through heartbeat addresses. */
  dialFromHeartbeat (record: PeerRecord): void {
    const { network, gate, self, logger } = this.components
    if (record.key === self || record.addrs.length === 0 || gate.isBlocked(record.peerId)) return
    // Checked on every heartbeat received: the count first, since a node holding its target returns there.
    if (network.connectionCount() >= this.dialTarget()) return
    if (network.isConnected(record.peerId)) return
    const last = this.dialAttempts.get(record.key) ?? 0
    if (Date.now() - last < HEARTBEAT_DIAL_BACKOFF_MS) return
    this.dialAttempts.set(record.key, Date.now())
    void network.dial(record.addrs).catch((err: unknown) => {
      logger.debug('dial from heartbeat failed', { peer: record.peerId, error: (err as Error).message })
    })
  }
}

/**
 * Creates the connection service.
 *
 * @example
 * ```ts
 * const connections = connectionService({ bootstrap })({ gate, network, self, isMemberPeer, onAccepted, logger })
 * ```
 */
export function connectionService (init: ConnectionServiceInit): (c: ConnectionServiceComponents) => ConnectionService {
  return (components) => new ConnectionService(init, components)
}

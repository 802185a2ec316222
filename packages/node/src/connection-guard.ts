import { multiaddr } from '@multiformats/multiaddr'
import {
  admitConnection, LogThrottle, PeerBackoff, pendingAdmitKeys, type ConnectionDirection, type ConnectionVerdict
} from '@govmesh/core'
import type { GovmeshNode } from './node.js'
import { keyOfPeer } from './peers.js'

const LOG_EVERY_MS = 10_000

/**
 * The daemon side of the connection rule ({@link admitConnection} in core): gathers the facts about a
 * peer whose handshake just completed, applies the verdict, counts refusals and keeps the per-peer
 * backoff. libp2p calls it from its connection gater, so an outsider is hung up on before its
 * connection exists and never holds one of the node's slots.
 */
export class ConnectionGuard {
  private readonly backoff = new PeerBackoff()
  private readonly quiet = new LogThrottle({ intervalMs: LOG_EVERY_MS })
  private readonly operatorNamed = new Set<string>()

  constructor (private readonly node: GovmeshNode, bootstrap: readonly string[]) {
    for (const addr of bootstrap) this.nameByOperator(addr)
  }

  /** Remembers the peer of an address the operator gave (bootstrap, join), so we may dial it. */
  nameByOperator (addr: string): void {
    try {
      const peer = multiaddr(addr).getPeerId()
      if (peer !== null) this.operatorNamed.add(peer)
    } catch { /* not a multiaddr: the dial itself reports it */ }
  }

  /** True to keep the connection; a refusal is counted and logged (at most once per interval). */
  admit (peerId: string, direction: ConnectionDirection): boolean {
    const node = this.node
    const now = Date.now()
    const epoch = node.membershipEpoch
    const verdict = admitConnection({
      direction,
      blocked: node.blockedPeers().includes(peerId),
      member: node.isMemberPeer(peerId),
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

  /** Hangs up on every connected peer the rule no longer keeps (e.g. a member just removed). */
  async sweep (): Promise<void> {
    for (const conn of this.node.libp2p.getConnections()) {
      if (this.admit(conn.remotePeer.toString(), conn.direction)) continue
      await conn.close().catch((err: unknown) => { conn.abort(err as Error) })
    }
  }

  private isPendingAdmit (peerId: string): boolean {
    const key = keyOfPeer(peerId)
    if (key === undefined || this.node.dag.pendingCount === 0) return false
    return pendingAdmitKeys(this.node.dag.pendingOfType('member.admit'), this.node.dag.currentGovernance()).has(key)
  }

  private refused (
    peerId: string, direction: ConnectionDirection, verdict: ConnectionVerdict & { admit: false }, now: number, epoch: number
  ): void {
    const node = this.node
    node.metrics.outsidersRefused.inc({ reason: verdict.reason, direction })
    if (verdict.reason !== 'backoff') this.backoff.refuse(peerId, now, epoch)
    const held = this.quiet.admit('outsider', now)
    if (held === undefined) return
    node.log.warn('connection refused: not a member', { peer: peerId, direction, reason: verdict.reason, suppressed: held })
  }
}

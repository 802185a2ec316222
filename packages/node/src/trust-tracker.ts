import { deriveTrust, peerIdFromPublicKey, peerStatus, type PeerStatus, type TrustStatus, type TrustView } from '@govmesh/core'
import type { GovmeshNode } from './node.js'
import { keyOfPeer } from './peers.js'

export interface TrustEntry extends PeerStatus {
  peerId: string
  key: string
  zone: string | null
}

/**
 * The node's live trust view: quarantines derived from the DAG (recomputed when a
 * trust entry arrives), staleness and drift from heartbeats. Fail closed: a peer
 * that is not a member, or that we never heard from, is not trusted.
 */
export class TrustTracker {
  private view: TrustView | undefined
  private lastQuarantined = new Set<string>()

  constructor (private readonly node: GovmeshNode) {}

  /** Drops the cached view (a trust or membership entry was accepted). */
  invalidate (): void {
    this.view = undefined
    const now = new Set(this.current().quarantined.keys())
    for (const key of now) {
      if (!this.lastQuarantined.has(key)) this.node.emit('trust:changed', { peerId: peerIdFromPublicKey(Buffer.from(key, 'hex')), key, status: 'quarantined' })
    }
    for (const key of this.lastQuarantined) {
      if (!now.has(key)) this.node.emit('trust:changed', { peerId: peerIdFromPublicKey(Buffer.from(key, 'hex')), key, status: 'restored' })
    }
    this.lastQuarantined = now
  }

  current (): TrustView {
    this.view ??= deriveTrust({
      fails: this.node.dag.entriesOfType('trust.fail'),
      restores: this.node.dag.entriesOfType('trust.restore'),
      failQuorum: this.node.dag.currentGovernance().quorums.fail,
      isRevoked: (id) => this.node.dag.isRevoked(id)
    })
    return this.view
  }

  /** Status of a peer by hex key. This node itself is never stale or drifted to itself. */
  statusOfKey (key: string, now = Date.now()): PeerStatus {
    const governance = this.node.dag.currentGovernance()
    const timing = this.node.policy.document().timing
    if (key === this.node.publicKey) {
      return peerStatus({ peer: key, governance, trust: this.current(), heartbeat: { lastSeen: now, driftSince: null }, timing, now })
    }
    const rec = this.node.peerRecords.get(key)
    return peerStatus({
      peer: key,
      governance,
      trust: this.current(),
      heartbeat: { lastSeen: rec?.lastSeen ?? null, driftSince: rec?.driftSince ?? null },
      timing,
      now
    })
  }

  /** Status by PeerId string; anything that is not an Ed25519 PeerId is unknown. */
  statusOf (peerId: string): TrustStatus {
    const key = keyOfPeer(peerId)
    return key === undefined ? 'unknown' : this.statusOfKey(key).status
  }

  selfStatus (): TrustStatus {
    return this.statusOfKey(this.node.publicKey).status
  }

  /** Every member and every peer we heard from, with status. */
  all (): TrustEntry[] {
    const gov = this.node.dag.currentGovernance()
    const keys = new Set<string>([...gov.members.keys(), ...this.node.peerRecords.keys(), ...this.current().quarantined.keys()])
    return [...keys].sort().map(key => ({
      peerId: peerIdFromPublicKey(Buffer.from(key, 'hex')),
      key,
      zone: gov.members.get(key)?.zone ?? null,
      ...this.statusOfKey(key)
    }))
  }
}

import {
  deriveTrust, entryEffects, peerStatus, type Dag, type PeerStatus, type PolicyState,
  type TrustStatus, type TrustView
} from '@govmesh/core'
import type { NodeEventBus } from '../events.js'
import type { AcceptedListener } from '../ledger.js'
import { keyOfPeer, peerIdOfKey, type PeerDirectory } from '../peers.js'
import type { Startable } from './startable.js'

export interface TrustEntry extends PeerStatus {
  peerId: string
  key: string
  zone: string | null
}

/** What the other services ask of trust. */
export interface TrustReader {
  current: () => TrustView
  statusOfKey: (key: string, now?: number) => PeerStatus
  statusOf: (peerId: string) => TrustStatus
  selfStatus: () => TrustStatus
}

export interface TrustComponents {
  dag: Dag
  policy: PolicyState
  /** This node's hex key. */
  self: string
  peers: PeerDirectory
  events: NodeEventBus
  onAccepted: (fn: AcceptedListener) => void
}

/**
 * The node's live trust view: quarantines derived from the DAG (again whenever an entry that
 * affects trust is accepted), staleness and drift from heartbeats. Fail closed: a peer that is
 * not a member, or that we never heard from, is not trusted.
 */
export class TrustTracker implements TrustReader, Startable {
  private view: TrustView | undefined
  private lastQuarantined = new Set<string>()

  constructor (private readonly components: TrustComponents) {}

  start (): void {
    this.components.onAccepted((entries) => {
      if (entries.some(e => entryEffects(e.entry.type).trust)) this.invalidate()
    })
  }

  stop (): void {}

  /** Drops the cached view and announces who entered or left quarantine. */
  invalidate (): void {
    const { events } = this.components
    this.view = undefined
    const now = new Set(this.current().quarantined.keys())
    const announce = (key: string, status: 'quarantined' | 'restored'): void => {
      events.emit('trust:changed', { peerId: peerIdOfKey(key), key, status })
    }
    for (const key of now) if (!this.lastQuarantined.has(key)) announce(key, 'quarantined')
    for (const key of this.lastQuarantined) if (!now.has(key)) announce(key, 'restored')
    this.lastQuarantined = now
  }

  current (): TrustView {
    const { dag } = this.components
    this.view ??= deriveTrust({
      fails: dag.entriesOfType('trust.fail'),
      restores: dag.entriesOfType('trust.restore'),
      failQuorum: dag.currentGovernance().quorums.fail,
      isRevoked: (id) => dag.isRevoked(id)
    })
    return this.view
  }

  /** Status of a peer by hex key. This node itself is never stale or drifted to itself. */
  statusOfKey (key: string, now = Date.now()): PeerStatus {
    const { dag, policy, self, peers } = this.components
    const rec = key === self ? { lastSeen: now, driftSince: null } : peers.get(key)
    return peerStatus({
      peer: key,
      governance: dag.currentGovernance(),
      trust: this.current(),
      heartbeat: { lastSeen: rec?.lastSeen ?? null, driftSince: rec?.driftSince ?? null },
      timing: policy.document().timing,
      now
    })
  }

  /** Status by PeerId string; anything that is not an Ed25519 PeerId is unknown. */
  statusOf (peerId: string): TrustStatus {
    const key = keyOfPeer(peerId)
    return key === undefined ? 'unknown' : this.statusOfKey(key).status
  }

  selfStatus (): TrustStatus {
    return this.statusOfKey(this.components.self).status
  }

  /** Every member and every peer we heard from, with status. */
  all (): TrustEntry[] {
    const gov = this.components.dag.currentGovernance()
    const keys = new Set<string>(
      [...gov.members.keys(), ...this.components.peers.keys(), ...this.current().quarantined.keys()]
    )
    return [...keys].sort().map(key => ({
      peerId: peerIdOfKey(key),
      key,
      zone: gov.members.get(key)?.zone ?? null,
      ...this.statusOfKey(key)
    }))
  }
}

/**
 * Creates the trust tracker (js-libp2p style: init, then components).
 *
 * @example
 * ```ts
 * const trust = trustService()({ dag, policy, self, peers, events, onAccepted })
 * trust.start()
 * ```
 */
export function trustService (): (components: TrustComponents) => TrustTracker {
  return (components) => new TrustTracker(components)
}

import { toHex } from './bytes.js'
import type { SignedEntry } from './entry.js'
import type { GovernanceState } from './governance.js'
import type { TrustStatus } from './decide.js'

/**
 * Who may hold a connection, and who may open which stream protocol. Connections are a scarce
 * resource (a node holds a bounded number), so they are for members: an outsider that completes
 * a handshake is hung up on at once, before it can hold a slot.
 */

/** Which side opened the connection. */
export type ConnectionDirection = 'inbound' | 'outbound'

/** What a node knows about a peer when its handshake completes. */
export interface ConnectionFacts {
  direction: ConnectionDirection
  /** The peer's key is a member in this node's governance view. */
  member: boolean
  /** A governor's `member.admit` for the peer's key waits in pending: it is about to be a member. */
  pendingAdmit: boolean
  /** The operator named this peer (a bootstrap address, or an explicit join): only for our own dials. */
  operatorNamed: boolean
  /** The operator blocks this peer. */
  blocked: boolean
  /** The peer was refused recently and nothing about membership changed since (see {@link PeerBackoff}). */
  backingOff: boolean
}

/** Why a connection is kept or refused; the refusal reasons are metric labels. */
export type ConnectionVerdict =
  | { admit: true, reason: 'member' | 'pending-admit' | 'operator-named' }
  | { admit: false, reason: 'blocked' | 'backoff' | 'not-member' }

/**
 * The connection rule. Blocked peers never; members and pending admits always; a peer the
 * operator named is dialled even when this node does not yet know it as a member (a new node
 * knows only its genesis, and the bootstrap node may have been admitted later). Everything
 * else, in particular every inbound outsider, is refused; a peer refused recently is refused
 * again without another look while nothing about membership changed.
 *
 * @example
 * ```ts
 * admitConnection({ direction: 'inbound', member: false, pendingAdmit: false, operatorNamed: false,
 *   blocked: false, backingOff: false }) // { admit: false, reason: 'not-member' }
 * ```
 */
export function admitConnection (facts: ConnectionFacts): ConnectionVerdict {
  if (facts.blocked) return { admit: false, reason: 'blocked' }
  if (facts.member) return { admit: true, reason: 'member' }
  if (facts.pendingAdmit) return { admit: true, reason: 'pending-admit' }
  if (facts.direction === 'outbound' && facts.operatorNamed) return { admit: true, reason: 'operator-named' }
  if (facts.backingOff) return { admit: false, reason: 'backoff' }
  return { admit: false, reason: 'not-member' }
}

/**
 * Hex keys admitted by pending `member.admit` entries whose author is a governor (governors are
 * fixed at genesis, and pending entries have verified signatures, so nobody else can forge one).
 *
 * @example
 * ```ts
 * const soon = pendingAdmitKeys(dag.pendingOfType('member.admit'), dag.currentGovernance())
 * soon.has(peerKeyHex)
 * ```
 */
export function pendingAdmitKeys (
  admits: ReadonlyArray<SignedEntry<'member.admit'>>, governance: GovernanceState
): Set<string> {
  const keys = new Set<string>()
  for (const a of admits) {
    if (governance.governors.has(toHex(a.entry.author))) keys.add(toHex(a.entry.body.member))
  }
  return keys
}

/** The stream protocols a member may open. */
export type StreamProtocol = 'sync' | 'exec' | 'heartbeats'

/** Why a stream is served or refused; refusal reasons are metric labels. */
export type StreamVerdict = { allow: true } | { allow: false, reason: 'not-member' | 'untrusted' | 'rate-limited' }

/**
 * The stream admission rule, judged before a byte of the stream is read. Sync and the latest
 * heartbeats are for members (a quarantined member still needs the entries that name its
 * quarantine, and every member may learn who is alive); executions are for
 * trusted members only, so nobody else can make this node sign anything. A peer over its
 * per-peer stream rate is refused too.
 *
 * @example
 * ```ts
 * mayOpenProtocol('exec', { member: true, status: 'stale', withinRate: true }) // { allow: false, reason: 'untrusted' }
 * ```
 */
export function mayOpenProtocol (
  protocol: StreamProtocol, peer: { member: boolean, status: TrustStatus, withinRate: boolean }
): StreamVerdict {
  if (!peer.member) return { allow: false, reason: 'not-member' }
  if (protocol === 'exec' && peer.status !== 'trusted') return { allow: false, reason: 'untrusted' }
  if (!peer.withinRate) return { allow: false, reason: 'rate-limited' }
  return { allow: true }
}

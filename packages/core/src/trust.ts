import { toHex } from './bytes.js'
import type { TrustFailBody, TrustRestoreBody } from './bodies.js'
import type { SignedEntry } from './entry.js'
import type { GovernanceState } from './governance.js'
import type { TrustStatus } from './decide.js'
import type { PolicyTiming } from './policy-schema.js'

/** One `trust.fail` as the trust view sees it. */
export interface TrustFailure {
  id: string
  /** Hex key of the peer reported. */
  subject: string
  /** Hex key of the reporting member. */
  reporter: string
  reason: string
  detector: string
  time: number
}

export interface Quarantine {
  subject: string
  /** Time (author clock) at which the fail quorum was reached. */
  since: number
  /** Uncleared failures about the subject. */
  failures: TrustFailure[]
}

/** The derived trust view: which subjects are quarantined, and by which failures. */
export interface TrustView {
  quarantined: ReadonlyMap<string, Quarantine>
  /** Ids of failures cleared by a valid restore. */
  cleared: ReadonlySet<string>
  failures: readonly TrustFailure[]
}

export interface DeriveTrustInit {
  fails: Iterable<SignedEntry>
  restores: Iterable<SignedEntry>
  failQuorum: number
  /** Entries past their author's cut count for nothing. */
  isRevoked?: (id: string) => boolean
}

/**
 * Derives the trust view from every known `trust.fail` and `trust.restore`. Set
 * based, so any arrival order gives the same view. A restore clears exactly the
 * failures it names (quorum and naming were checked when it entered the DAG), so
 * a later failure is never cleared by an earlier restore.
 *
 * @example
 * ```ts
 * const view = deriveTrust({
 *   fails: dag.entriesOfType('trust.fail'), restores: dag.entriesOfType('trust.restore'), failQuorum: 1
 * })
 * view.quarantined.has(peerKeyHex)
 * ```
 */
export function deriveTrust (init: DeriveTrustInit): TrustView {
  const revoked = init.isRevoked ?? (() => false)
  const cleared = new Set<string>()
  for (const r of init.restores) {
    if (revoked(r.id) || r.entry.type !== 'trust.restore') continue
    for (const c of (r.entry.body as TrustRestoreBody).clears) cleared.add(c.toString())
  }
  const failures: TrustFailure[] = []
  const open = new Map<string, TrustFailure[]>()
  for (const f of init.fails) {
    if (revoked(f.id) || f.entry.type !== 'trust.fail') continue
    const body = f.entry.body as TrustFailBody
    const failure: TrustFailure = {
      id: f.id,
      subject: toHex(body.subject),
      reporter: toHex(f.entry.author),
      reason: body.reason,
      detector: body.detector,
      time: f.entry.time
    }
    failures.push(failure)
    if (cleared.has(f.id)) continue
    let list = open.get(failure.subject)
    if (list === undefined) open.set(failure.subject, list = [])
    list.push(failure)
  }
  failures.sort(byTimeThenId)
  const quarantined = new Map<string, Quarantine>()
  for (const [subject, list] of open) {
    list.sort(byTimeThenId)
    const reporters = new Set<string>()
    let since: number | undefined
    for (const f of list) {
      reporters.add(f.reporter)
      if (reporters.size >= init.failQuorum) { since = f.time; break }
    }
    if (since !== undefined) quarantined.set(subject, { subject, since, failures: list })
  }
  return { quarantined, cleared, failures }
}

function byTimeThenId (a: TrustFailure, b: TrustFailure): number {
  return a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

/** What the node knows of a peer's heartbeats. */
export interface HeartbeatObservation {
  /** Local time the last valid heartbeat arrived, or null if none ever did. */
  lastSeen: number | null
  /** Local time since which the peer has advertised another policy digest, or null if it agrees. */
  driftSince: number | null
}

export interface PeerStatusInput {
  /** Hex key of the peer. */
  peer: string
  governance: GovernanceState
  trust: TrustView
  heartbeat: HeartbeatObservation
  timing: PolicyTiming
  now: number
}

export interface PeerStatus {
  status: TrustStatus
  /** When the current status began, where known (ms). */
  since: number | null
  reasons: string[]
  /** Failure entry ids behind a quarantine. */
  entries: string[]
}

/**
 * The status of one peer. Fail closed: not a member → `unknown`; any uncleared
 * quarantine → `quarantined`; no valid heartbeat within the window → `stale`;
 * another policy digest for longer than the grace period → `drifted`.
 *
 * @example
 * ```ts
 * peerStatus({ peer, governance, trust, heartbeat: { lastSeen, driftSince: null }, timing, now: Date.now() }).status
 * ```
 */
export function peerStatus (input: PeerStatusInput): PeerStatus {
  const { peer, governance, trust, heartbeat, timing, now } = input
  if (!governance.members.has(peer)) {
    return {
      status: 'unknown', since: null,
      reasons: [governance.removed.has(peer) ? 'removed from the mesh' : 'not a member'], entries: []
    }
  }
  const q = trust.quarantined.get(peer)
  if (q !== undefined) {
    return {
      status: 'quarantined', since: q.since, reasons: q.failures.map(f => f.reason), entries: q.failures.map(f => f.id)
    }
  }
  if (heartbeat.lastSeen === null || now - heartbeat.lastSeen > timing.staleMs) {
    return {
      status: 'stale',
      since: heartbeat.lastSeen === null ? null : heartbeat.lastSeen + timing.staleMs,
      reasons: [
        heartbeat.lastSeen === null ? 'no heartbeat received' : `no heartbeat for ${now - heartbeat.lastSeen} ms`
      ],
      entries: []
    }
  }
  if (heartbeat.driftSince !== null && now - heartbeat.driftSince > timing.driftGraceMs) {
    return {
      status: 'drifted', since: heartbeat.driftSince + timing.driftGraceMs,
      reasons: ['advertises a different policy digest'], entries: []
    }
  }
  return { status: 'trusted', since: null, reasons: [], entries: [] }
}

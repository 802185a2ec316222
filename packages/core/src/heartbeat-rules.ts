import type { VerifiedHeartbeat } from './heartbeat.js'
import type { PolicyTiming } from './policy-schema.js'

/** What this node last recorded of a peer's heartbeats (the daemon's peer record, reduced to what the rules read). */
export interface HeartbeatMemory {
  /** The author-clock time of the last accepted heartbeat. */
  time: number
  /** Local time since which the peer's policy digest differs from ours, or null. */
  driftSince: number | null
}

export interface HeartbeatContext {
  /** Local clock (ms). */
  now: number
  /** Is the heartbeat's author a member in the current governance state? */
  isMember: boolean
  prior: HeartbeatMemory | undefined
  /** This node's policy digest. */
  policyDigest: string
  /** The policy's runtime measurement allowlist; empty allows any. */
  measurements: readonly string[]
  /** This node's accepted entry count and heads hash. */
  entries: number
  headsHash: string
}

/** The verdict on one heartbeat and what the daemon should do about it. */
export type HeartbeatOutcome =
  | { verdict: 'reject', reason: 'gossip.non-member' }
  | { verdict: 'ignore', reason: 'heartbeat.replay' }
  | {
    verdict: 'accept'
    /** Start of the peer's policy drift (local time), or null when digests match. */
    driftSince: number | null
    /** A trust failure to report, when the peer runs a measurement the policy does not allow. */
    report?: { reason: string, detector: 'measurement' }
    /** The peer holds entries this node lacks: worth a sync. */
    sync: boolean
  }

/**
 * Judges a verified heartbeat (docs/PROTOCOL.md §19.2): only members' heartbeats count;
 * one older than the last accepted is a replay and ignored; drift starts at the first
 * heartbeat with another digest and lasts until digests match; a measurement outside a
 * non-empty allowlist is a trust failure; a peer with more entries and other heads is
 * worth a sync (under steady writes heads differ for a moment; anti-entropy covers that).
 *
 * @example
 * ```ts
 * const out = observeHeartbeat(hb, {
 *   now: Date.now(), isMember: true, prior, policyDigest, measurements, entries, headsHash
 * })
 * if (out.verdict === 'accept' && out.report !== undefined) report(hb.nodeHex, out.report)
 * ```
 */
export function observeHeartbeat (hb: VerifiedHeartbeat, ctx: HeartbeatContext): HeartbeatOutcome {
  if (!ctx.isMember) return { verdict: 'reject', reason: 'gossip.non-member' }
  if (ctx.prior !== undefined && hb.time < ctx.prior.time) return { verdict: 'ignore', reason: 'heartbeat.replay' }
  const driftSince = hb.policyDigest === ctx.policyDigest ? null : (ctx.prior?.driftSince ?? ctx.now)
  const allowed = ctx.measurements.length === 0 || ctx.measurements.includes(hb.measurement)
  return {
    verdict: 'accept',
    driftSince,
    ...(allowed
      ? {}
      : {
        report: {
          reason: `runtime measurement ${hb.measurement.slice(0, 16)}… is not in the policy allowlist`,
          detector: 'measurement' as const
        }
      }),
    sync: hb.entries > ctx.entries && hb.headsHash !== ctx.headsHash
  }
}

export interface ReportContext {
  /** Hex keys. */
  subject: string
  self: string
  /** Only members may author `trust.fail`. */
  selfIsMember: boolean
  /** A report about the subject is being written right now. */
  inFlight: boolean
  /** This node already has an uncleared `trust.fail` about the subject. */
  openReportBySelf: boolean
}

/**
 * Whether a detector's finding becomes a `trust.fail` (detectors fire on every heartbeat
 * or message; reports should not): never about oneself, only by a member, and not while
 * this node's own report about the subject is in flight or still open.
 *
 * @example
 * ```ts
 * if (shouldReport({ subject, self, selfIsMember: true, inFlight: false, openReportBySelf: false })) append(...)
 * ```
 */
export function shouldReport (ctx: ReportContext): boolean {
  return ctx.subject !== ctx.self && ctx.selfIsMember && !ctx.inFlight && !ctx.openReportBySelf
}

/** Why an operator's report (`govmesh trust report`) cannot be authored here, or undefined when it can. */
export type ManualReportRefusal = 'not-member' | 'self-report'

/**
 * Whether this node may author an operator's report about `subject`: only a member reports (a
 * non-member's entry would be rejected everywhere), and never about itself.
 *
 * @example
 * ```ts
 * const refusal = manualReportRefusal({ subject, self, selfIsMember: ledger.isMember(self) })
 * ```
 */
export function manualReportRefusal (ctx: { subject: string, self: string, selfIsMember: boolean }):
ManualReportRefusal | undefined {
  if (!ctx.selfIsMember) return 'not-member'
  if (ctx.subject === ctx.self) return 'self-report'
  return undefined
}

/**
 * How a gossip topic validator answers an ingest outcome: accepted forwards, rejected penalizes, anything else is
 * dropped quietly.
 */
export function gossipVerdict (status: string | undefined): 'accept' | 'reject' | 'ignore' {
  return status === 'accepted' ? 'accept' : status === 'rejected' ? 'reject' : 'ignore'
}

/** The heartbeat timing of a policy (its `timing`, reduced to what the schedule reads). */
export type HeartbeatTiming = Pick<PolicyTiming, 'heartbeatMs' | 'staleMs'>

/**
 * The interval of heartbeats when nothing changed: half of `staleMs`, so a live peer's
 * heartbeat arrives with half the stale window left for delivery, and never more often than
 * `heartbeatMs` (docs/PROTOCOL.md §19.1).
 *
 * @example
 * ```ts
 * keepAliveMs({ heartbeatMs: 1000, staleMs: 5000 }) // 2500
 * ```
 */
export function keepAliveMs (timing: HeartbeatTiming): number {
  return Math.max(timing.heartbeatMs, Math.floor(timing.staleMs / 2))
}

/**
 * Whether a member's connection is news worth a heartbeat (docs/PROTOCOL.md §19.1): only when it
 * is the node's first connected member, i.e. the node just joined (or rejoined) the mesh and its
 * peers have not heard from it. A node already in the mesh stays quiet: its next keep-alive
 * reaches the newcomer, and announcing every connection to the whole mesh made each join cost a
 * heartbeat from every peer it reached, to every member (quadratic while a large mesh starts).
 *
 * @example
 * ```ts
 * if (connectIsNews(connectedMembers)) announce()
 * ```
 */
export function connectIsNews (connectedMembers: number): boolean {
  return connectedMembers <= 1
}

/**
 * Whether a recorded heartbeat may be handed to a member that just joined (docs/PROTOCOL.md
 * §19.4): recorded less than a stale window ago, i.e. its peer is not stale here. The joiner dates
 * it back by its age, so it judges that peer stale exactly when this node does, and a peer that
 * fell silent is never passed on as alive.
 *
 * @example
 * ```ts
 * relayableHeartbeat(4000, { heartbeatMs: 1000, staleMs: 6000 }) // true
 * relayableHeartbeat(6000, { heartbeatMs: 1000, staleMs: 6000 }) // false
 * ```
 */
export function relayableHeartbeat (ageMs: number, timing: Pick<HeartbeatTiming, 'staleMs'>): boolean {
  return Number.isSafeInteger(ageMs) && ageMs >= 0 && ageMs < timing.staleMs
}

/**
 * When a joiner records a heartbeat a peer handed it (docs/PROTOCOL.md §19.4): at the moment
 * the peer recorded it, as the peer says (its age, bounded to the stale window), never later
 * than now. Staleness then comes no later than it would have at the peer that relayed it.
 *
 * @example
 * ```ts
 * relayedLastSeen(10_000, 2500, { heartbeatMs: 1000, staleMs: 6000 }) // 7500
 * ```
 */
export function relayedLastSeen (now: number, ageMs: number, timing: Pick<HeartbeatTiming, 'staleMs'>): number {
  return now - Math.min(Math.max(0, ageMs), timing.staleMs)
}

export interface HeartbeatSchedule {
  /** Local clock (ms). */
  now: number
  /** When this node last published a heartbeat, or null before its first. */
  lastSentAt: number | null
  /** Whether there is news for peers: an entry was accepted, or a member connected, since the last heartbeat. */
  changed: boolean
  timing: HeartbeatTiming
}

/**
 * When to publish the next heartbeat (docs/PROTOCOL.md §19.1): news goes out at once but at most
 * once per `heartbeatMs`; without news, one keep-alive per {@link keepAliveMs}.
 *
 * @example
 * ```ts
 * const at = nextHeartbeatAt({ now, lastSentAt, changed: entriesAcceptedSinceLastBeat, timing })
 * setTimeout(send, Math.max(0, at - now))
 * ```
 */
export function nextHeartbeatAt (s: HeartbeatSchedule): number {
  if (s.lastSentAt === null) return s.now
  const wait = s.changed ? s.timing.heartbeatMs : keepAliveMs(s.timing)
  return Math.max(s.now, s.lastSentAt + wait)
}

/**
 * A peer's drift start once this node's own policy digest changed (docs/PROTOCOL.md §19.3):
 * drift is judged against the receiver's digest now, not only when the peer's next heartbeat
 * arrives, which with keep-alives can be `staleMs / 2` away.
 *
 * @example
 * ```ts
 * record.driftSince = driftAfterOwnDigestChange(record, policy.digest(), Date.now())
 * ```
 */
export function driftAfterOwnDigestChange (
  record: { policyDigest: string, driftSince: number | null }, ownDigest: string, now: number
): number | null {
  return record.policyDigest === ownDigest ? null : (record.driftSince ?? now)
}

/**
 * Whether an anti-entropy round has anything to find (docs/PROTOCOL.md §20): some connected member
 * advertised other heads than ours, or has not advertised any yet. When all advertise our heads,
 * both sides hold the same DAG and the round is skipped.
 *
 * @example
 * ```ts
 * if (antiEntropyNeeded(ownHeadsHash, connected.map(p => records.get(p)))) void sync.withRandomPeer()
 * ```
 */
export function antiEntropyNeeded (
  ownHeadsHash: string, peers: ReadonlyArray<{ headsHash: string } | undefined>
): boolean {
  return peers.some(p => p === undefined || p.headsHash !== ownHeadsHash)
}

import type { VerifiedHeartbeat } from './heartbeat.js'

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
 * const out = observeHeartbeat(hb, { now: Date.now(), isMember: true, prior, policyDigest, measurements, entries, headsHash })
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
      : { report: { reason: `runtime measurement ${hb.measurement.slice(0, 16)}… is not in the policy allowlist`, detector: 'measurement' as const } }),
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

/** How a gossip topic validator answers an ingest outcome: accepted forwards, rejected penalizes, anything else is dropped quietly. */
export function gossipVerdict (status: string | undefined): 'accept' | 'reject' | 'ignore' {
  return status === 'accepted' ? 'accept' : status === 'rejected' ? 'reject' : 'ignore'
}

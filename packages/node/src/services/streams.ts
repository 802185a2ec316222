import {
  LogThrottle, mayOpenProtocol, TokenBuckets, type StreamProtocol, type StreamVerdict, type TrustStatus
} from '@govmesh/core'
import { REFUSAL_LOG_INTERVAL_MS } from '../constants.js'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'

/** Per-peer inbound stream rates (streams per second, burst); see docs/PROTOCOL.md. */
export const STREAM_RATES: Record<StreamProtocol, { ratePerSec: number, burst: number }> = {
  exec: { ratePerSec: 500, burst: 1000 },
  sync: { ratePerSec: 10, burst: 20 },
  heartbeats: { ratePerSec: 1, burst: 4 }
}

export interface StreamGuardComponents {
  isMemberPeer: (peerId: string) => boolean
  statusOf: (peerId: string) => TrustStatus
  metrics: NodeMetrics
  logger: Logger
}

/**
 * The daemon side of the stream rule ({@link mayOpenProtocol} in core), asked before a byte of an
 * inbound stream is read: counts refusals by protocol and reason, and writes at most one warning
 * per peer, protocol and interval, saying how many it held back.
 */
export class StreamGuard {
  private readonly buckets: Record<StreamProtocol, TokenBuckets> = {
    exec: new TokenBuckets(STREAM_RATES.exec),
    sync: new TokenBuckets(STREAM_RATES.sync),
    heartbeats: new TokenBuckets(STREAM_RATES.heartbeats)
  }

  private readonly quiet = new LogThrottle({ intervalMs: REFUSAL_LOG_INTERVAL_MS })

  constructor (private readonly components: StreamGuardComponents) {}

  admit (protocol: StreamProtocol, peerId: string): StreamVerdict {
    const { isMemberPeer, statusOf, metrics } = this.components
    const member = isMemberPeer(peerId)
    // Only members spend a bucket: outsiders are refused anyway and must not fill the table.
    const verdict = mayOpenProtocol(protocol, {
      member,
      status: member ? statusOf(peerId) : 'unknown',
      withinRate: !member || this.buckets[protocol].take(peerId, Date.now())
    })
    if (!verdict.allow) {
      metrics.streamsRefused.inc({ protocol, reason: verdict.reason })
      this.warn(protocol, peerId, 'stream refused', { reason: verdict.reason })
    }
    return verdict
  }

  /** Counts a refusal decided later in the stream (e.g. a replayed request). */
  refuseLater (protocol: StreamProtocol, peerId: string, reason: string, detail: string): void {
    this.components.metrics.streamsRefused.inc({ protocol, reason })
    this.warn(protocol, peerId, 'stream refused', { reason, detail })
  }

  /** A warning about a peer's stream, rate-limited per peer and protocol. */
  warn (protocol: StreamProtocol, peerId: string, message: string, fields: Record<string, unknown>): void {
    const held = this.quiet.admit(`${protocol} ${peerId}`, Date.now())
    if (held !== undefined) this.components.logger.warn(
      `${protocol} ${message}`, { peer: peerId, ...fields, suppressed: held }
    )
  }
}

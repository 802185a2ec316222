import {
  peerIdFromPublicKey, shouldReport, verifyEquivocationEvidence, type EquivocationEvidence, type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import type { Append } from '../ledger.js'
import type { Logger } from '../logger.js'
import type { TrustReader } from './trust.js'

export interface ReporterComponents {
  /** This node's hex key. */
  self: string
  isMember: (key: string) => boolean
  trust: Pick<TrustReader, 'current'>
  append: Append
  logger: Logger
}

/**
 * Turns what the detectors find (heartbeats, gossip, equivocations) into `trust.fail` entries;
 * core's {@link shouldReport} decides whether a report is due, so detectors firing on every
 * heartbeat author one open report per subject.
 */
export class TrustReporter {
  private readonly reporting = new Set<string>()

  constructor (private readonly components: ReporterComponents) {}

  /** Authors a `trust.fail` about a peer unless this node already has one open about it. */
  async reportOnce (
    subjectKey: string, reason: string, detector: string, evidence: Record<string, unknown> | null
  ): Promise<SignedEntry | undefined> {
    const { self, isMember, trust, append, logger } = this.components
    const view = trust.current()
    const report = shouldReport({
      subject: subjectKey,
      self,
      selfIsMember: isMember(self),
      inFlight: this.reporting.has(subjectKey),
      openReportBySelf: view.failures.some(
        f => f.subject === subjectKey && f.reporter === self && !view.cleared.has(f.id)
      )
    })
    if (!report) return undefined
    this.reporting.add(subjectKey)
    try {
      const entry = await append('trust.fail', { subject: Buffer.from(subjectKey, 'hex'), reason, detector, evidence })
      const subject = peerIdFromPublicKey(Buffer.from(subjectKey, 'hex'))
      logger.warn('trust failure reported', { subject, detector, reason, cid: entry.id })
      return entry
    } catch (err) {
      logger.error('could not report trust failure', { error: (err as Error).message })
      return undefined
    } finally {
      this.reporting.delete(subjectKey)
    }
  }

  /** Reports the author of two conflicting entries, once the evidence verifies. */
  async reportEquivocation (ev: EquivocationEvidence): Promise<void> {
    try {
      const proof = verifyEquivocationEvidence(ev, nodeCrypto)
      await this.reportOnce(proof.author, `equivocation at seq ${proof.seq}`, 'equivocation', { a: ev.a, b: ev.b })
    } catch (err) {
      this.components.logger.warn('equivocation evidence did not verify', { error: (err as Error).message })
    }
  }
}

import { describe, expect, it } from 'vitest'
import {
  ENTRY_TYPES, entryEffects, execRequestBody, gossipVerdict, manualReportRefusal, observeHeartbeat, removalCut,
  restoreQuorum, shouldReport, type HeartbeatContext, type VerifiedHeartbeat
} from '../src/index.js'

const hb = (over: Partial<VerifiedHeartbeat> = {}): VerifiedHeartbeat => ({
  v: 1, node: new Uint8Array(32), nodeHex: '00'.repeat(32), measurement: 'aa'.repeat(32), policyDigest: 'd1',
  entries: 10, headsHash: 'h1', addrs: [], time: 1000, sig: new Uint8Array(64), ...over
})
const ctx = (over: Partial<HeartbeatContext> = {}): HeartbeatContext => ({
  now: 50_000, isMember: true, prior: undefined, policyDigest: 'd1', measurements: [], entries: 10, headsHash: 'h1',
  ...over
})

describe('observeHeartbeat', () => {
  it('rejects non-members before anything else', () => {
    expect(observeHeartbeat(hb(), ctx({ isMember: false }))).toEqual({ verdict: 'reject', reason: 'gossip.non-member' })
  })
  it('ignores a heartbeat older than the last accepted one (replay), accepts an equal or newer one', () => {
    expect(observeHeartbeat(hb({ time: 999 }), ctx({ prior: { time: 1000, driftSince: null } })).verdict).toBe('ignore')
    expect(
      observeHeartbeat(hb({ time: 1000 }), ctx({ prior: { time: 1000, driftSince: null } })).verdict
    ).toBe('accept')
  })
  it('drift starts at the first differing digest, keeps its start, and ends when digests match', () => {
    const first = observeHeartbeat(hb({ policyDigest: 'd2' }), ctx())
    expect(first).toMatchObject({ verdict: 'accept', driftSince: 50_000 })
    const later = observeHeartbeat(
      hb({ policyDigest: 'd2', time: 2000 }), ctx({ now: 60_000, prior: { time: 1000, driftSince: 50_000 } })
    )
    expect(later).toMatchObject({ driftSince: 50_000 })
    const healed = observeHeartbeat(hb({ time: 3000 }), ctx({ now: 70_000, prior: { time: 2000, driftSince: 50_000 } }))
    expect(healed).toMatchObject({ driftSince: null })
  })
  it('a measurement outside a non-empty allowlist is reported; an empty allowlist allows any', () => {
    const bad = observeHeartbeat(hb({ measurement: 'ff'.repeat(32) }), ctx({ measurements: ['aa'.repeat(32)] }))
    expect(bad).toMatchObject({ verdict: 'accept', report: { detector: 'measurement' } })
    expect(observeHeartbeat(hb(), ctx({ measurements: ['aa'.repeat(32)] }))).not.toHaveProperty('report')
    expect(observeHeartbeat(hb({ measurement: 'ff'.repeat(32) }), ctx())).not.toHaveProperty('report')
  })
  it('asks for a sync only when the peer has more entries and other heads', () => {
    expect(observeHeartbeat(hb({ entries: 11, headsHash: 'h2' }), ctx())).toMatchObject({ sync: true })
    expect(observeHeartbeat(hb({ entries: 11, headsHash: 'h1' }), ctx())).toMatchObject({ sync: false })
    expect(observeHeartbeat(hb({ entries: 9, headsHash: 'h2' }), ctx())).toMatchObject({ sync: false })
  })
})

describe('shouldReport', () => {
  const base = { subject: 'b', self: 'a', selfIsMember: true, inFlight: false, openReportBySelf: false }
  it('reports once per open failure, never about itself, only as a member', () => {
    expect(shouldReport(base)).toBe(true)
    expect(shouldReport({ ...base, subject: 'a' })).toBe(false)
    expect(shouldReport({ ...base, selfIsMember: false })).toBe(false)
    expect(shouldReport({ ...base, inFlight: true })).toBe(false)
    expect(shouldReport({ ...base, openReportBySelf: true })).toBe(false)
  })
})

describe('gossipVerdict, removalCut, restoreQuorum', () => {
  it('maps ingest outcomes to validator results', () => {
    expect(
      ['accepted', 'rejected', 'pending', 'duplicate', undefined].map(gossipVerdict)
    ).toEqual(['accept', 'reject', 'ignore', 'ignore', 'ignore'])
  })
  it('the removal cut is the member\'s frontier in the remover\'s view, 0 when it never wrote', () => {
    expect(removalCut({ a: 7, b: 2 }, 'a')).toBe(7)
    expect(removalCut({ b: 2 }, 'a')).toBe(0)
  })
  it('the restore quorum counts distinct governors', () => {
    expect(restoreQuorum([{ governor: 'g1' }, { governor: 'g1' }], 2)).toEqual({ approvers: 1, reached: false })
    expect(
      restoreQuorum([{ governor: 'g1' }, { governor: Uint8Array.of(1) }], 2)
    ).toEqual({ approvers: 2, reached: true })
  })

  it('an operator report is authored only by a member, and never about the reporting node itself', () => {
    expect(manualReportRefusal({ subject: 'b', self: 'a', selfIsMember: true })).toBeUndefined()
    expect(manualReportRefusal({ subject: 'b', self: 'a', selfIsMember: false })).toBe('not-member')
    expect(manualReportRefusal({ subject: 'a', self: 'a', selfIsMember: true })).toBe('self-report')
  })

  it('entry effects: trust, membership and removals re-derive what they touch; execution lineage touches nothing', () => {
    const touching = ENTRY_TYPES.filter(t => entryEffects(t).trust).sort()
    expect(touching).toEqual([
      'governor.add', 'governor.quorum', 'governor.remove', 'member.admit', 'member.remove', 'trust.fail',
      'trust.restore'
    ])
    expect(ENTRY_TYPES.filter(t => entryEffects(t).membership).sort()).toEqual(['member.admit', 'member.remove'])
    expect(ENTRY_TYPES.filter(t => entryEffects(t).dropConnections)).toEqual(['member.remove'])
    expect(ENTRY_TYPES.filter(t => entryEffects(t).policy)).toEqual(['policy.update'])
    for (const t of ['exec.request', 'exec.hop', 'exec.refuse', 'exec.result'] as const) {
      expect(entryEffects(t)).toEqual({ trust: false, membership: false, dropConnections: false, policy: false })
    }
  })

  it('request nonces come from the CSPRNG: 128 bits, never repeating', () => {
    const base = { action: 'echo', resource: 'r', target: 'zone:a' }
    const nonces = new Set(Array.from({ length: 1000 }, () => execRequestBody(base).nonce))
    expect(nonces.size).toBe(1000)
    for (const n of nonces) expect(n).toMatch(/^[0-9a-f]{32}$/)
  })
})

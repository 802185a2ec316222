import { describe, expect, it } from 'vitest'
import {
  antiEntropyNeeded, connectIsNews, driftAfterOwnDigestChange, keepAliveMs, nextHeartbeatAt, peerStatus,
  relayableHeartbeat, relayedLastSeen,
  type PolicyTiming
} from '../src/index.js'
import type { GovernanceState } from '../src/governance.js'

const timing: PolicyTiming = { heartbeatMs: 1000, staleMs: 5000, driftGraceMs: 5000 }

describe('heartbeat timing', () => {
  it('keep-alives come every half stale window, never more often than heartbeatMs', () => {
    expect(keepAliveMs(timing)).toBe(2500)
    expect(keepAliveMs({ heartbeatMs: 300, staleMs: 2000 })).toBe(1000)
    expect(keepAliveMs({ heartbeatMs: 4000, staleMs: 5000 })).toBe(4000)
    expect(keepAliveMs({ heartbeatMs: 1, staleMs: 1 })).toBe(1)
  })

  it('the first heartbeat goes at once; news within heartbeatMs; otherwise a keep-alive', () => {
    expect(nextHeartbeatAt({ now: 10_000, lastSentAt: null, changed: false, timing })).toBe(10_000)
    expect(nextHeartbeatAt({ now: 10_200, lastSentAt: 10_000, changed: true, timing })).toBe(11_000)
    expect(nextHeartbeatAt({ now: 12_000, lastSentAt: 10_000, changed: true, timing })).toBe(12_000)
    expect(nextHeartbeatAt({ now: 10_200, lastSentAt: 10_000, changed: false, timing })).toBe(12_500)
    expect(nextHeartbeatAt({ now: 13_000, lastSentAt: 10_000, changed: false, timing })).toBe(13_000)
  })

  it('a live idle peer is never stale while its keep-alives arrive within half the stale window', () => {
    const governance = { members: new Map([['p', { zone: 'a' }]]), removed: new Set() } as unknown as GovernanceState
    const trust = { quarantined: new Map(), cleared: new Set<string>(), failures: [] }
    const k = keepAliveMs(timing)
    // Sent at 0, k, 2k, ...; delivered alternately at once and half a stale window late (the widest gap).
    const arrivals = Array.from({ length: 40 }, (_, i) => i * k + (i % 2 === 1 ? timing.staleMs / 2 : 0))
    for (let now = 0; now < 39 * k; now += 10) {
      const lastSeen = Math.max(...arrivals.filter(a => a <= now))
      const s = peerStatus({ peer: 'p', governance, trust, heartbeat: { lastSeen, driftSince: null }, timing, now })
      expect(s.status, `at ${now}`).toBe('trusted')
    }
    // And silent after its last arrival: stale once the window has passed.
    const last = arrivals[39]!
    const silent = peerStatus(
      {
        peer: 'p', governance, trust, heartbeat: { lastSeen: last, driftSince: null }, timing,
        now: last + timing.staleMs + 1
      }
    )
    expect(silent.status).toBe('stale')
  })

  it('drift follows this node\'s own digest at once: cleared when it matches, started when it no longer does', () => {
    expect(driftAfterOwnDigestChange({ policyDigest: 'd2', driftSince: 5000 }, 'd2', 9000)).toBeNull()
    expect(driftAfterOwnDigestChange({ policyDigest: 'd1', driftSince: null }, 'd2', 9000)).toBe(9000)
    expect(driftAfterOwnDigestChange({ policyDigest: 'd1', driftSince: 5000 }, 'd2', 9000)).toBe(5000)
  })

  it('anti-entropy runs only when a connected member advertises other heads, or none yet', () => {
    expect(antiEntropyNeeded('h1', [])).toBe(false)
    expect(antiEntropyNeeded('h1', [{ headsHash: 'h1' }, { headsHash: 'h1' }])).toBe(false)
    expect(antiEntropyNeeded('h1', [{ headsHash: 'h1' }, { headsHash: 'h2' }])).toBe(true)
    expect(antiEntropyNeeded('h1', [{ headsHash: 'h1' }, undefined])).toBe(true)
  })

  it('a connection is news only for a node that just joined: its first connected member', () => {
    expect(connectIsNews(1)).toBe(true)
    // A node already in the mesh does not broadcast a heartbeat to every member for each newcomer.
    expect(connectIsNews(2)).toBe(false)
    expect(connectIsNews(49)).toBe(false)
  })

  it('a joiner is handed only heartbeats of peers not stale here, dated back by their age', () => {
    expect(relayableHeartbeat(0, timing)).toBe(true)
    expect(relayableHeartbeat(4999, timing)).toBe(true)
    expect(relayableHeartbeat(5000, timing)).toBe(false)
    expect(relayableHeartbeat(-1, timing)).toBe(false)
    expect(relayableHeartbeat(1.5, timing)).toBe(false)
    expect(relayedLastSeen(100_000, 2000, timing)).toBe(98_000)
    // A claimed age is bounded: never later than now, never older than a stale window.
    expect(relayedLastSeen(100_000, -50, timing)).toBe(100_000)
    expect(relayedLastSeen(100_000, 60_000, timing)).toBe(95_000)
  })

  it('a peer handed over is stale at the joiner no later than at the peer that relayed it', () => {
    const governance = { members: new Map([['p', { zone: 'a' }]]), removed: new Set() } as unknown as GovernanceState
    const trust = { quarantined: new Map(), cleared: new Set<string>(), failures: [] }
    const status = (lastSeen: number, now: number): string =>
      peerStatus({ peer: 'p', governance, trust, heartbeat: { lastSeen, driftSince: null }, timing, now }).status
    for (const age of [0, 1000, 2499, 4999]) {
      const recordedByRelay = 50_000
      const handedAt = recordedByRelay + age
      const atJoiner = relayedLastSeen(handedAt, age, timing)
      for (let now = handedAt; now < handedAt + timing.staleMs * 2; now += 250) {
        if (status(recordedByRelay, now) === 'stale') expect(status(atJoiner, now)).toBe('stale')
      }
    }
  })
})

import { describe, expect, it } from 'vitest'
import {
  admitConnection, BoundedMap, LogThrottle, mayOpenProtocol, PeerBackoff, pendingAdmitKeys, ReplayWindow, TokenBuckets,
  toHex, type ConnectionFacts, type TrustStatus
} from '../src/index.js'
import { buildMesh } from './helpers.js'

const outsider: ConnectionFacts = {
  direction: 'inbound', member: false, pendingAdmit: false, operatorNamed: false, blocked: false, backingOff: false
}

describe('admitConnection', () => {
  it('keeps members and pending admits in both directions, and refuses inbound outsiders', () => {
    expect(admitConnection(outsider)).toEqual({ admit: false, reason: 'not-member' })
    expect(admitConnection({ ...outsider, member: true })).toEqual({ admit: true, reason: 'member' })
    expect(admitConnection({ ...outsider, pendingAdmit: true })).toEqual({ admit: true, reason: 'pending-admit' })
    expect(admitConnection({ ...outsider, direction: 'outbound', member: true }))
      .toEqual({ admit: true, reason: 'member' })
  })

  it('lets us dial a peer the operator named, but an inbound outsider naming itself gains nothing', () => {
    expect(admitConnection({ ...outsider, direction: 'outbound', operatorNamed: true }))
      .toEqual({ admit: true, reason: 'operator-named' })
    expect(admitConnection({ ...outsider, direction: 'inbound', operatorNamed: true }))
      .toEqual({ admit: false, reason: 'not-member' })
    expect(admitConnection({ ...outsider, direction: 'outbound' })).toEqual({ admit: false, reason: 'not-member' })
  })

  it('blocked beats membership; backoff applies to outsiders only', () => {
    expect(admitConnection({ ...outsider, member: true, blocked: true })).toEqual({ admit: false, reason: 'blocked' })
    expect(admitConnection({ ...outsider, backingOff: true })).toEqual({ admit: false, reason: 'backoff' })
    expect(admitConnection({ ...outsider, member: true, backingOff: true })).toEqual({ admit: true, reason: 'member' })
  })
})

describe('pendingAdmitKeys', () => {
  it('counts admits by governors only, as they wait in pending', () => {
    const mesh = buildMesh({ label: 'pending-admits' })
    const dag = mesh.dag()
    const joiner = mesh.outsider(0)
    const forger = mesh.outsider(1)
    const gov = mesh.author(mesh.governors[0]!, dag)
    const byGovernor = gov.next('member.admit', { member: joiner.publicKey, zone: 'a' })
    const byOutsider = mesh.author(forger, dag).next('member.admit', { member: forger.publicKey, zone: 'a' })
    const keys = pendingAdmitKeys([byGovernor, byOutsider], dag.currentGovernance())
    expect([...keys]).toEqual([toHex(joiner.publicKey)])

    // An admit whose predecessor has not arrived waits in pending, and is found there.
    const writer = mesh.author(mesh.governors[0]!, mesh.dag())
    writer.write('member.admit', { member: mesh.outsider(2).publicKey, zone: 'a' })
    const later = writer.next('member.admit', { member: mesh.outsider(3).publicKey, zone: 'a' })
    expect(dag.add(later.bytes).status).toBe('pending')
    const pending = dag.pendingOfType('member.admit')
    expect(pending.map(e => e.id)).toEqual([later.id])
    expect([...pendingAdmitKeys(pending, dag.currentGovernance())]).toEqual([toHex(mesh.outsider(3).publicKey)])
    expect(dag.pendingOfType('exec.request')).toEqual([])
  })
})

describe('mayOpenProtocol', () => {
  const statuses: TrustStatus[] = ['trusted', 'stale', 'drifted', 'quarantined', 'unknown']
  it('exec is for trusted members, sync for members; non-members get neither', () => {
    for (const status of statuses) {
      expect(mayOpenProtocol('exec', { member: true, status, withinRate: true }))
        .toEqual(status === 'trusted' ? { allow: true } : { allow: false, reason: 'untrusted' })
      expect(mayOpenProtocol('sync', { member: true, status, withinRate: true })).toEqual({ allow: true })
      for (const protocol of ['exec', 'sync'] as const) {
        expect(mayOpenProtocol(protocol, { member: false, status, withinRate: true }))
          .toEqual({ allow: false, reason: 'not-member' })
      }
    }
  })

  it('a member over its rate is refused', () => {
    for (const protocol of ['exec', 'sync'] as const) {
      expect(mayOpenProtocol(protocol, { member: true, status: 'trusted', withinRate: false }))
        .toEqual({ allow: false, reason: 'rate-limited' })
    }
  })
})

describe('ReplayWindow', () => {
  const now = 1_000_000_000

  it('serves a request once; its CID or its nonce again is a replay', () => {
    const w = new ReplayWindow()
    expect(w.check(['request:a', 'nonce:p:1'], now, now)).toBe('fresh')
    expect(w.check(['request:a', 'nonce:p:1'], now, now + 1)).toBe('replay')
    expect(w.check(['request:b', 'nonce:p:1'], now, now + 1)).toBe('replay')
    expect(w.check(['request:c', 'nonce:q:1'], now, now + 1)).toBe('fresh')
  })

  it('refuses times before the window, before the floor, and too far ahead', () => {
    const w = new ReplayWindow({ windowMs: 1000, maxSkewMs: 100, floor: now - 500 })
    expect(w.check(['at-floor'], now - 500, now)).toBe('stale')
    expect(w.check(['a'], now - 600, now)).toBe('stale')
    expect(w.check(['b'], now - 400, now)).toBe('fresh')
    expect(w.check(['c'], now + 101, now)).toBe('future')
    expect(w.check(['d'], now, now + 1001)).toBe('stale')
  })

  it('stays bounded, and never accepts again what it forgot (the floor rises to what it evicts)', () => {
    const w = new ReplayWindow({ capacity: 100, windowMs: 10_000_000 })
    for (let i = 0; i < 1000; i++) expect(w.check([`k${i}`], now + i, now + i)).toBe('fresh')
    expect(w.size).toBe(100)
    // Every key ever offered is refused, whether still held (replay) or forgotten (stale).
    for (let i = 0; i < 1000; i++) expect(w.check([`k${i}`], now + i, now + 1000)).not.toBe('fresh')
    expect(w.check(['new'], now + 1000, now + 1000)).toBe('fresh')
  })

  it('forgets keys older than the window', () => {
    const w = new ReplayWindow({ windowMs: 1000 })
    for (let i = 0; i < 50; i++) w.check([`k${i}`], now, now)
    w.check(['late'], now + 2000, now + 2000)
    expect(w.size).toBe(1)
  })
})

describe('TokenBuckets', () => {
  it('allows a burst, then the rate', () => {
    const b = new TokenBuckets({ ratePerSec: 10, burst: 5 })
    const t = 1000
    for (let i = 0; i < 5; i++) expect(b.take('p', t)).toBe(true)
    expect(b.take('p', t)).toBe(false)
    expect(b.take('q', t)).toBe(true)
    expect(b.take('p', t + 99)).toBe(false)
    expect(b.take('p', t + 100)).toBe(true)
    // Refill is capped at the burst.
    let taken = 0
    while (b.take('p', t + 1_000_000)) taken++
    expect(taken).toBe(5)
  })

  it('rejects nonsense limits', () => {
    expect(() => new TokenBuckets({ ratePerSec: 0, burst: 1 })).toThrow(RangeError)
  })
})

describe('LogThrottle', () => {
  it('one line per key per interval, saying how many were held back', () => {
    const q = new LogThrottle({ intervalMs: 1000 })
    expect(q.admit('k', 0)).toBe(0)
    expect(q.admit('k', 10)).toBeUndefined()
    expect(q.admit('k', 20)).toBeUndefined()
    expect(q.admit('other', 20)).toBe(0)
    expect(q.admit('k', 1000)).toBe(2)
  })
})

describe('PeerBackoff', () => {
  it('doubles per refusal up to the cap, and ends when membership changes', () => {
    const b = new PeerBackoff({ baseMs: 100, maxMs: 1000 })
    expect(b.refuse('p', 0, 1)).toBe(100)
    expect(b.isBackingOff('p', 50, 1)).toBe(true)
    expect(b.isBackingOff('p', 100, 1)).toBe(false)
    expect(b.refuse('p', 100, 1)).toBe(200)
    expect(b.refuse('p', 300, 1)).toBe(400)
    for (let i = 0; i < 10; i++) b.refuse('p', 1000, 1)
    expect(b.refuse('p', 1000, 1)).toBe(1000)
    expect(b.isBackingOff('p', 1500, 2)).toBe(false)
    b.clear('p')
    expect(b.refuse('p', 0, 2)).toBe(100)
  })
})

describe('BoundedMap', () => {
  it('evicts the least recently written key', () => {
    const m = new BoundedMap<string, number>(2)
    m.set('a', 1)
    m.set('b', 2)
    m.set('a', 3)
    expect(m.set('c', 4)).toEqual(['b', 2])
    expect(m.get('a')).toBe(3)
    expect(m.size).toBe(2)
    expect(() => new BoundedMap(0)).toThrow(RangeError)
  })
})

/**
 * The rules one node applies before it runs or forwards an execution: principal, sender
 * trust, the planned path, the ancestry scan, the peers that must be trusted, the executor,
 * and the deadline arithmetic that makes budgets shrink along the path.
 */
import { describe, expect, it } from 'vitest'
import {
  checkHop, compilePolicy, deadlineFrom, DEFAULT_EXEC_TIMEOUT_MS, executionBudget, executorRefusal, execRequestBody,
  forwardBudget, HOP_RESERVE_MS, MAX_ANCESTRY_CHECK, MAX_EXEC_TIMEOUT_MS, parsePolicyDocument, peerIdFromPublicKey,
  pathRefusal, peersToTrust, policyDigest, scanAncestry, selfRefusal, senderRefusal,
  type AncestrySource, type HopCheckInput, type TrustStatus
} from '../src/index.js'
import { hex, seedKey } from './helpers.js'

const [self, origin, other] = ['self', 'origin', 'other'].map(seedKey) as [
  ReturnType<typeof seedKey>, ReturnType<typeof seedKey>, ReturnType<typeof seedKey>
]
const SELF = { peerId: peerIdFromPublicKey(self.publicKey), key: hex(self.publicKey) }
const ORIGIN = { peerId: peerIdFromPublicKey(origin.publicKey), key: hex(origin.publicKey) }
const OTHER = { peerId: peerIdFromPublicKey(other.publicKey), key: hex(other.publicKey) }

/** An ancestry as a plain list in walk order. */
function source (
  entries: Array<{ id: string, type: string, author: string, revoked?: boolean }>
): AncestrySource & { limits: number[] } {
  const limits: number[] = []
  return {
    limits,
    ancestry: (_id, { limit }) => { limits.push(limit); return entries.map(e => e.id).slice(0, limit) },
    meta: (id) => entries.find(e => e.id === id),
    isRevoked: (id) => entries.find(e => e.id === id)?.revoked === true
  }
}

describe('ancestry scan', () => {
  it('collects the exec.* authors of the ancestry once each, in walk order, within the 256-entry limit', () => {
    const s = source([
      { id: 'r', type: 'exec.result', author: OTHER.key },
      { id: 'h', type: 'exec.hop', author: ORIGIN.key },
      { id: 'q', type: 'exec.request', author: OTHER.key },
      { id: 'g', type: 'member.admit', author: 'ff'.repeat(32) }
    ])
    expect(scanAncestry(s, 'r')).toEqual({ authors: [OTHER.key, ORIGIN.key] })
    expect(s.limits).toEqual([MAX_ANCESTRY_CHECK])
    expect(MAX_ANCESTRY_CHECK).toBe(256)
    expect(scanAncestry(s, null)).toEqual({ authors: [] })
  })

  it('refuses a request whose ancestry holds a revoked entry', () => {
    const s = source(
      [
        { id: 'r', type: 'exec.result', author: OTHER.key },
        { id: 'x', type: 'exec.hop', author: OTHER.key, revoked: true }
      ]
    )
    expect(scanAncestry(s, 'r')).toEqual({ reason: 'ancestry.invalid', detail: 'ancestry entry x is revoked' })
  })
})

describe('which peers must be trusted', () => {
  it('is the rest of the route, then every author once, this node excluded, as PeerIds', () => {
    expect(
      peersToTrust(
        { self: SELF, rest: [SELF.peerId, OTHER.peerId], authors: [ORIGIN.key, SELF.key, ORIGIN.key, OTHER.key] }
      )
    )
      .toEqual([OTHER.peerId, ORIGIN.peerId, OTHER.peerId])
  })
})

describe('single rules', () => {
  it('a sender must be trusted', () => {
    expect(senderRefusal({ peerId: 'p', status: 'trusted' })).toBeUndefined()
    expect(senderRefusal({ peerId: 'p', status: 'drifted' })).toEqual(
      { reason: 'trust.drifted', detail: 'forwarded by p, which is drifted' }
    )
  })

  it('a receiver must be the planned peer at its position, and the rest the planned remainder', () => {
    const path = ['b', 'c', 'd']
    expect(pathRefusal(undefined, 'x', 1, [])).toBeUndefined()
    expect(pathRefusal(path, 'b', 1, ['c', 'd'])).toBeUndefined()
    expect(pathRefusal(path, 'c', 2, ['d'])).toBeUndefined()
    expect(pathRefusal(path, 'd', 3, [])).toBeUndefined()
    expect(pathRefusal(path, 'c', 1, ['c', 'd'])).toMatchObject({ reason: 'ancestry.invalid' })
    expect(pathRefusal(path, 'b', 1, ['d'])).toMatchObject({ reason: 'ancestry.invalid' })
    expect(pathRefusal(path, 'd', 3, ['e'])).toMatchObject({ reason: 'ancestry.invalid' })
  })

  it('the executing node needs an executor for the action', () => {
    expect(executorRefusal('echo', true)).toBeUndefined()
    expect(executorRefusal('deploy', false)).toEqual(
      { reason: 'policy.denied', detail: 'no executor configured for action deploy' }
    )
  })

  it('a node without a policy, or not trusted itself, refuses everything', () => {
    expect(selfRefusal({ present: false }, 'trusted')).toMatchObject({ reason: 'policy.missing' })
    expect(selfRefusal({ present: true }, 'quarantined')).toMatchObject({ reason: 'self.quarantined' })
    expect(selfRefusal({ present: true }, 'unknown')).toMatchObject({ reason: 'trust.unknown' })
    expect(selfRefusal({ present: true }, 'trusted')).toBeUndefined()
  })
})

describe('checkHop', () => {
  const doc = parsePolicyDocument({
    rules: [{ id: 'echo', effect: 'allow', principals: ['local'], actions: ['echo'] }],
    transitions: [['a', 'b']],
    maxHops: 3
  })
  const policy = compilePolicy(doc, policyDigest(doc))
  function input (over: Partial<HopCheckInput> & { statuses?: Record<string, TrustStatus> } = {}): HopCheckInput {
    const statuses = over.statuses ?? {}
    return {
      body: execRequestBody({ action: 'echo', resource: 'r', target: 'zone:b', path: [SELF.peerId] }),
      principal: 'local',
      hop: 1,
      rest: [],
      self: { ...SELF, zone: 'b', status: 'trusted' },
      sender: { peerId: ORIGIN.peerId, status: 'trusted', zone: 'a' },
      lineageAuthors: [ORIGIN.key],
      ancestry: { authors: [] },
      policy,
      peerStatus: (p) => statuses[p] ?? 'trusted',
      ...over
    }
  }

  it('passes a request that every rule allows', () => {
    expect(checkHop(input())).toBeUndefined()
    expect(
      checkHop(
        input({ sender: undefined, hop: 0, rest: [OTHER.peerId], self: { ...SELF, zone: 'a', status: 'trusted' } })
      )
    ).toBeUndefined()
  })

  it('refuses, in order: principal, sender, path, ancestry, then the decision', () => {
    expect(checkHop(input({ principal: undefined, sender: { peerId: 'p', status: 'stale', zone: 'a' } })))
      .toMatchObject({ reason: 'ancestry.invalid', detail: 'the request signature does not verify' })
    expect(
      checkHop(input({ sender: { peerId: 'p', status: 'stale', zone: 'a' }, rest: ['x'] }))
    ).toMatchObject({ reason: 'trust.stale' })
    expect(checkHop(input({ rest: [OTHER.peerId] }))).toMatchObject(
      { reason: 'ancestry.invalid', detail: expect.stringContaining('planned path') }
    )
    expect(
      checkHop(
        input(
          { ancestry: { reason: 'ancestry.invalid', detail: 'revoked' }, statuses: { [ORIGIN.peerId]: 'quarantined' } }
        )
      )
    )
      .toEqual({ reason: 'ancestry.invalid', detail: 'revoked' })
    expect(
      checkHop(input({ statuses: { [ORIGIN.peerId]: 'quarantined' } }))
    ).toMatchObject({ reason: 'trust.quarantined' })
    expect(
      checkHop(input({ ancestry: { authors: [OTHER.key] }, statuses: { [OTHER.peerId]: 'stale' } }))
    ).toMatchObject({ reason: 'trust.stale' })
  })

  it('decides with the sender\'s zone, the whole path length and this node\'s own status', () => {
    expect(
      checkHop(input({ sender: { peerId: ORIGIN.peerId, status: 'trusted', zone: 'c' } }))
    ).toMatchObject({ reason: 'zone.transition' })
    const long = execRequestBody({ action: 'echo', resource: 'r', target: 'zone:b' })
    expect(checkHop(input({ body: long, hop: 2, rest: ['x', 'y'] }))).toMatchObject({ reason: 'hops.exceeded' })
    expect(
      checkHop(input({ self: { ...SELF, zone: 'b', status: 'quarantined' } }))
    ).toMatchObject({ reason: 'self.quarantined' })
  })
})

describe('deadlines', () => {
  it('start from the caller\'s budget, the default when absent, never beyond the maximum', () => {
    expect(deadlineFrom(1000, 500)).toBe(1500)
    expect(deadlineFrom(1000, undefined)).toBe(1000 + DEFAULT_EXEC_TIMEOUT_MS)
    expect(deadlineFrom(1000, 10 * MAX_EXEC_TIMEOUT_MS)).toBe(1000 + MAX_EXEC_TIMEOUT_MS)
    expect(deadlineFrom(1000, -5)).toBe(1000)
  })

  it('shrink at each forward by the reserve, and the wait ends before this node\'s own deadline', () => {
    const first = forwardBudget(10_000, 0)
    expect(first).toEqual({ remainingMs: 10_000 - HOP_RESERVE_MS, waitMs: 10_000 - HOP_RESERVE_MS / 2 })
    if ('reason' in first) return
    const second = forwardBudget(deadlineFrom(50, first.remainingMs), 50)
    expect('remainingMs' in second && second.remainingMs).toBe(10_000 - 2 * HOP_RESERVE_MS)
    // A longer path means a shorter budget at every later hop, never a longer one.
    let left = 10_000
    for (let hop = 0; hop < 10; hop++) {
      const b = forwardBudget(left, 0)
      if ('reason' in b) break
      expect(b.remainingMs).toBeLessThan(left)
      expect(b.waitMs).toBeLessThan(left)
      left = b.remainingMs
    }
  })

  it('refuse with timeout when too little is left to forward or to execute', () => {
    expect(forwardBudget(1000, 1000 - 2 * HOP_RESERVE_MS + 1)).toMatchObject({ reason: 'timeout' })
    expect(forwardBudget(1000, 1000 - 2 * HOP_RESERVE_MS)).toMatchObject({ remainingMs: HOP_RESERVE_MS })
    expect(executionBudget(1000, 400)).toBe(600 - HOP_RESERVE_MS / 2)
    expect(executionBudget(1000, 1000 - HOP_RESERVE_MS / 2)).toMatchObject({ reason: 'timeout' })
  })
})

/**
 * Route planning: shortest routes over trusted members and allowed zone transitions, within
 * the hop limit, with deterministic tiebreaks and exact refusals.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  CID, execRequestBody, keyPairFromSecret, MAX_PATH, MAX_ROUTE, planRoute, requestPrincipal, signAgentRequest, toHex,
  validateBody,
  type RouteMember, type RoutePlan, type RouteView, type TrustStatus
} from '../src/index.js'

/** Members named by zone and index (`b1` is in zone b); the planner treats PeerIds as opaque strings. */
function members (...names: string[]): RouteMember[] {
  return names.map(n => ({ peerId: n, zone: n.replace(/[0-9]+$/, '') }))
}

type ViewInit = Omit<Partial<RouteView>, 'status'> & { status?: Record<string, TrustStatus>, links?: string[] }

function view ({ status: statuses, links: linked, ...over }: ViewInit = {}): RouteView {
  const status = statuses ?? {}
  const links = new Set(linked ?? [])
  return {
    self: 'a1',
    members: members('a1', 'b1', 'c1'),
    transitions: new Set(['a>b', 'b>c']),
    maxHops: 4,
    connected: (p) => links.has(p),
    ...over,
    status: (p) => status[p] ?? 'trusted'
  }
}

const plan = (target: string, v: RouteView, route: string[] = []): RoutePlan => planRoute({ target, route }, v)

describe('planRoute: routes', () => {
  it('finds a → b → c for zone:c and for a PeerId in zone c', () => {
    expect(plan('zone:c', view())).toEqual({ ok: true, path: ['b1', 'c1'] })
    expect(plan('c1', view())).toEqual({ ok: true, path: ['b1', 'c1'] })
  })

  it('plans multi-hop routes through several zones, and the shortest of them', () => {
    const v = view(
      { members: members('a1', 'b1', 'c1', 'd1', 'e1'), transitions: new Set(['a>b', 'b>c', 'c>d', 'a>e', 'e>d']) }
    )
    expect(plan('zone:d', v)).toEqual({ ok: true, path: ['e1', 'd1'] })
    expect(plan('zone:c', v)).toEqual({ ok: true, path: ['b1', 'c1'] })
  })

  it('takes a direct allowed transition over a longer route, even through a connected peer', () => {
    const v = view({ transitions: new Set(['a>b', 'b>c', 'a>c']), links: ['b1'] })
    expect(plan('zone:c', v)).toEqual({ ok: true, path: ['c1'] })
  })

  it('stays within a zone without a transition: the origin executes for its own zone or itself', () => {
    const v = view({ members: members('a1', 'a2', 'b1') })
    expect(plan('zone:a', v)).toEqual({ ok: true, path: [] })
    expect(plan('a1', v)).toEqual({ ok: true, path: [] })
    expect(plan('a2', v)).toEqual({ ok: true, path: ['a2'] })
  })

  it('breaks ties by a first peer this node is connected to, then lexicographically by PeerId', () => {
    const ms = members('a1', 'b2', 'b1', 'c2', 'c1')
    expect(plan('zone:c', view({ members: ms }))).toEqual({ ok: true, path: ['b1', 'c1'] })
    expect(plan('zone:c', view({ members: ms, links: ['b2'] }))).toEqual({ ok: true, path: ['b2', 'c1'] })
    // Connections matter only for the first hop, the one this node dials itself.
    expect(plan('zone:c', view({ members: ms, links: ['c2'] }))).toEqual({ ok: true, path: ['b1', 'c1'] })
    // The same answer whatever order the members come in.
    expect(
      plan('zone:c', view({ members: [...ms].reverse(), links: ['b2'] }))
    ).toEqual({ ok: true, path: ['b2', 'c1'] })
  })

  it('goes around an untrusted peer when another route exists', () => {
    const ms = members('a1', 'b1', 'b2', 'c1')
    expect(
      plan('zone:c', view({ members: ms, status: { b1: 'quarantined' } }))
    ).toEqual({ ok: true, path: ['b2', 'c1'] })
    expect(
      plan('zone:c', view({ members: ms, status: { b1: 'stale', c1: 'trusted' } }))
    ).toEqual({ ok: true, path: ['b2', 'c1'] })
  })
})

describe('planRoute: refusals', () => {
  it('names the quarantined member that stands in the way', () => {
    const r = plan('zone:c', view({ status: { b1: 'quarantined' } }))
    expect(r).toMatchObject({ ok: false, reason: 'trust.quarantined' })
    expect(!r.ok && r.detail).toContain('b1 (quarantined)')
  })

  it('names every untrusted peer in the way, with the most serious status as the reason', () => {
    const r = plan(
      'zone:c', view({ members: members('a1', 'b1', 'b2', 'c1'), status: { b1: 'stale', b2: 'quarantined' } })
    )
    expect(r).toMatchObject({ ok: false, reason: 'trust.quarantined' })
    expect(!r.ok && r.detail).toContain('b1 (stale), b2 (quarantined)')
    const stale = plan('zone:c', view({ status: { b1: 'stale' } }))
    expect(stale).toMatchObject({ ok: false, reason: 'trust.stale' })
    expect(!stale.ok && stale.detail).toContain('b1 (stale)')
  })

  it('names only peers on routes within the hop limit', () => {
    // a → b → c is 2 hops; a → x → y → c is 3, over the limit of 2, so x1 is not "in the way".
    const v = view({
      members: members('a1', 'b1', 'c1', 'x1', 'y1'),
      transitions: new Set(['a>b', 'b>c', 'a>x', 'x>y', 'y>c']),
      maxHops: 2,
      status: { b1: 'quarantined', x1: 'quarantined' }
    })
    const r = plan('zone:c', v)
    expect(r).toMatchObject({ ok: false, reason: 'trust.quarantined' })
    expect(!r.ok && r.detail).toContain('b1 (quarantined)')
    expect(!r.ok && r.detail).not.toContain('x1')
  })

  it('refuses when every member of the target zone, or the target peer, is untrusted', () => {
    const zone = plan(
      'zone:c', view({ members: members('a1', 'b1', 'c1', 'c2'), status: { c1: 'drifted', c2: 'stale' } })
    )
    expect(zone).toMatchObject({ ok: false, reason: 'trust.drifted' })
    expect(!zone.ok && zone.detail).toBe('no trusted member in zone c: c1 (drifted), c2 (stale)')
    const peer = plan('b1', view({ status: { b1: 'quarantined' } }))
    expect(peer).toMatchObject({ ok: false, reason: 'trust.quarantined', detail: 'target b1 (quarantined)' })
  })

  it('refuses a route longer than the hop limit with the shortest length', () => {
    const v = view(
      { members: members('a1', 'b1', 'c1', 'd1'), transitions: new Set(['a>b', 'b>c', 'c>d']), maxHops: 2 }
    )
    expect(plan('zone:d', v)).toEqual(
      { ok: false, reason: 'hops.exceeded', detail: 'the shortest route to zone:d takes 3 hops; the limit is 2' }
    )
    expect(plan('zone:c', v)).toEqual({ ok: true, path: ['b1', 'c1'] })
  })

  it('never plans beyond MAX_PATH, whatever the policy allows', () => {
    const zones = Array.from({ length: MAX_PATH + 2 }, (_, i) => `z${i}`)
    const v = view({
      self: 'z0-0',
      members: zones.map(z => ({ peerId: `${z}-0`, zone: z })),
      transitions: new Set(zones.slice(1).map((z, i) => `${zones[i]!}>${z}`)),
      maxHops: 1000
    })
    expect(plan(`zone:${zones[MAX_PATH]!}`, v)).toMatchObject({ ok: true })
    expect(plan(`zone:${zones[MAX_PATH + 1]!}`, v)).toMatchObject({ ok: false, reason: 'hops.exceeded' })
  })

  it('names the missing transition when no chain of allowed transitions reaches the zone', () => {
    const r = plan('zone:c', view({ transitions: new Set(['a>b']) }))
    expect(r).toMatchObject({ ok: false, reason: 'zone.transition' })
    expect(!r.ok && r.detail).toContain('zone transition a → c is not allowed')
    expect(plan('c1', view({ transitions: new Set() }))).toMatchObject({ ok: false, reason: 'zone.transition' })
  })

  it('says which zone on the way has no member to pass through', () => {
    const r = plan('zone:c', view({ members: members('a1', 'c1') }))
    expect(r).toEqual(
      { ok: false, reason: 'trust.unknown', detail: 'the route a → b → c needs a member of zone b, which has none' }
    )
  })

  it('refuses unknown targets, empty zones and a planning node that is not a member', () => {
    expect(plan('zone:q', view())).toEqual({ ok: false, reason: 'trust.unknown', detail: 'no member in zone q' })
    expect(plan('z9', view())).toEqual({ ok: false, reason: 'trust.unknown', detail: 'target z9 is not a member' })
    expect(plan('zone:c', view({ self: 'x9' }))).toMatchObject({ ok: false, reason: 'trust.unknown' })
  })
})

describe('planRoute: explicit routes', () => {
  const ms = members('a1', 'b1', 'b2', 'c1')

  it('keeps the explicit route as the prefix and plans on from its last peer', () => {
    expect(plan('zone:c', view({ members: ms }), ['b2'])).toEqual({ ok: true, path: ['b2', 'c1'] })
    expect(plan('zone:c', view({ members: ms }), ['a1', 'b2'])).toEqual({ ok: true, path: ['b2', 'c1'] })
    expect(plan('zone:c', view({ members: ms }), ['b2', 'c1'])).toEqual({ ok: true, path: ['b2', 'c1'] })
    expect(plan('c1', view({ members: ms }), ['b2'])).toEqual({ ok: true, path: ['b2', 'c1'] })
  })

  it('checks the explicit route: trust, then the hop limit, then every transition', () => {
    expect(
      plan('zone:c', view({ members: ms, status: { b2: 'stale' } }), ['b2'])
    ).toEqual({ ok: false, reason: 'trust.stale', detail: 'route peer b2 is stale' })
    expect(plan('zone:c', view({ members: ms }), ['x9'])).toMatchObject({ ok: false, reason: 'trust.unknown' })
    const jump = plan('zone:c', view({ members: ms }), ['c1'])
    expect(jump).toMatchObject({ ok: false, reason: 'zone.transition' })
    expect(!jump.ok && jump.detail).toContain('zone transition a → c is not allowed')
    // Too long is reported before the forbidden b → a step.
    expect(
      plan('zone:c', view({ members: ms }), ['b1', 'a1', 'b2', 'a1'])
    ).toMatchObject({ ok: false, reason: 'hops.exceeded' })
  })
})

describe('planRoute: properties', () => {
  /** Reference: breadth-first search over members, one member at a time, no zone grouping and no tiebreaks. */
  function shortest (v: RouteView, goal: (p: RouteMember) => boolean): number | undefined {
    const zoneOf = new Map(v.members.map(m => [m.peerId, m.zone]))
    let frontier = [v.self]
    const seen = new Set(frontier)
    for (let depth = 1; depth <= Math.min(v.maxHops, MAX_PATH); depth++) {
      const next: string[] = []
      for (const p of frontier) {
        for (const m of v.members) {
          if (seen.has(m.peerId) || v.status(m.peerId) !== 'trusted') continue
          const from = zoneOf.get(p)!
          if (from !== m.zone && !v.transitions.has(`${from}>${m.zone}`)) continue
          if (goal(m)) return depth
          seen.add(m.peerId)
          next.push(m.peerId)
        }
      }
      frontier = next
    }
    return undefined
  }

  const ZONES = ['a', 'b', 'c', 'd', 'e']
  const STATUSES: TrustStatus[] = ['trusted', 'trusted', 'trusted', 'quarantined', 'stale', 'drifted']
  const meshes = fc.record({
    zones: fc.array(fc.constantFrom(...ZONES), { minLength: 2, maxLength: 14 }),
    statuses: fc.array(fc.constantFrom(...STATUSES), { minLength: 14, maxLength: 14 }),
    transitions: fc.uniqueArray(fc.tuple(fc.constantFrom(...ZONES), fc.constantFrom(...ZONES)), { maxLength: 10 }),
    links: fc.array(fc.boolean(), { minLength: 14, maxLength: 14 }),
    maxHops: fc.integer({ min: 1, max: 5 }),
    target: fc.constantFrom(...ZONES)
  })

  it('every planned route is shortest, trusted, allowed step by step, within the limit, and order-independent', () => {
    fc.assert(fc.property(meshes, (m) => {
      const ms = m.zones.map((z, i) => ({ peerId: `p${String(i).padStart(2, '0')}`, zone: z }))
      const status = Object.fromEntries(ms.map((x, i) => [x.peerId, i === 0 ? 'trusted' : m.statuses[i]!]))
      const links = ms.filter((_, i) => m.links[i]).map(x => x.peerId)
      const v = view(
        {
          self: 'p00', members: ms, status, links, transitions: new Set(m.transitions.map(([a, b]) => `${a}>${b}`)),
          maxHops: m.maxHops
        }
      )
      const r = plan(`zone:${m.target}`, v)
      const selfZone = ms[0]!.zone
      const expected = selfZone === m.target ? 0 : shortest(v, x => x.zone === m.target && x.peerId !== 'p00')
      if (expected === undefined) {
        expect(r.ok).toBe(false)
        return
      }
      expect(r).toMatchObject({ ok: true })
      if (!r.ok) return
      expect(r.path).toHaveLength(expected)
      let zone = selfZone
      for (const p of r.path) {
        const next = ms.find(x => x.peerId === p)!
        expect(v.status(p)).toBe('trusted')
        expect(zone === next.zone || v.transitions.has(`${zone}>${next.zone}`)).toBe(true)
        zone = next.zone
      }
      if (r.path.length > 0) expect(zone).toBe(m.target)
      expect(plan(`zone:${m.target}`, { ...v, members: [...ms].reverse() })).toEqual(r)
    }), { seed: 9, numRuns: 400 })
  })
})

describe('the planned path in an exec.request', () => {
  const fail = (m: string): Error => new Error(m)
  const body = execRequestBody({ action: 'echo', resource: 'r', target: 'zone:c', nonce: 'n' })

  it('is optional, so requests recorded before planning stay valid, and bounded by MAX_PATH', () => {
    expect(() => { validateBody('exec.request', body, fail, fail) }).not.toThrow()
    expect(() => { validateBody('exec.request', { ...body, path: ['b1', 'c1'] }, fail, fail) }).not.toThrow()
    expect(
      () => { validateBody('exec.request', { ...body, path: Array(MAX_PATH).fill('p') }, fail, fail) }
    ).not.toThrow()
    expect(() => { validateBody('exec.request', { ...body, path: Array(MAX_PATH + 1).fill('p') }, fail, fail) })
      .toThrow(`body(exec.request).path: expected at most ${MAX_PATH} PeerIds`)
    expect(() => { validateBody('exec.request', { ...body, path: [7] }, fail, fail) }).toThrow('path[0]')
    expect(() => { validateBody('exec.request', { ...body, route: Array(MAX_ROUTE + 1).fill('p') }, fail, fail) })
      .toThrow(`route: expected at most ${MAX_ROUTE} PeerIds`)
  })

  it('is not part of the agent statement: the origin may plan a signed request', () => {
    const mesh = CID.parse('bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
    const keys = keyPairFromSecret(new Uint8Array(32).fill(4))
    const agent = signAgentRequest({ ...body, mesh }, keys)
    const signed = { ...body, principal: toHex(agent.key), agent }
    expect(requestPrincipal(mesh, signed)).toBe(toHex(agent.key))
    expect(requestPrincipal(mesh, { ...signed, path: ['b1', 'c1'] })).toBe(toHex(agent.key))
  })
})

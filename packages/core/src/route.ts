import type { Refusal, TrustStatus } from './decide.js'
import { MAX_PATH } from './limits.js'

/** A target naming a zone rather than a peer: `zone:NAME`. */
export const ZONE_TARGET_PREFIX = 'zone:'

/** What the planner is asked: the request's `target` and its explicit `route`. */
export interface RouteRequest {
  /** A PeerId, or `zone:NAME` for any trusted member of that zone. */
  target: string
  /** PeerIds the caller wants passed through first, in order (may be empty). */
  route: readonly string[]
}

export interface RouteMember {
  peerId: string
  zone: string
}

/** What the planning node knows now. */
export interface RouteView {
  /** PeerId of the planning node (the origin). */
  self: string
  /** Every current member, the planning node included. */
  members: readonly RouteMember[]
  /** The planning node's trust status of a member now. */
  status: (peerId: string) => TrustStatus
  /** True when the planning node has an open connection to the peer. */
  connected: (peerId: string) => boolean
  /** Allowed zone transitions as `from>to` keys (`CompiledPolicy.transitions`). */
  transitions: ReadonlySet<string>
  /** The policy's hop limit. */
  maxHops: number
}

/** The planned path (PeerIds after the origin, the last executes; empty: the origin executes), or why none exists. */
export type RoutePlan = { ok: true, path: string[] } | ({ ok: false } & Refusal)

interface Reach { depth: number, path: string[] }

/** Which untrusted status names a refusal when several peers are in the way: the most serious first. */
const STATUS_ORDER: readonly TrustStatus[] = ['quarantined', 'drifted', 'stale', 'unknown']
const MAX_NAMED = 8

/**
 * Plans the path of an execution. Pure. The path is the shortest one from this node to the
 * target (a PeerId, or any member of `zone:Z`) that passes only through members trusted now,
 * whose every step stays in a zone or is an allowed zone transition, and whose length is within
 * the policy's hop limit (and {@link MAX_PATH}). An explicit route is kept as the path's prefix
 * and checked the same way; planning continues from its last peer unless that peer already is
 * the target (or a member of the target zone). Among equally short paths it prefers one whose
 * first peer this node is connected to (the only hop it dials itself), then the lexicographically
 * smallest sequence of PeerIds, so every run gives the same path. When there is none, the refusal
 * names the cause: `trust.*` with the untrusted peers in the way, `hops.exceeded` with the
 * shortest length, `zone.transition` with the transition that is missing, or `trust.unknown`
 * when a zone on the way has no member.
 *
 * @example
 * ```ts
 * const plan = planRoute({ target: 'zone:c', route: [] }, {
 *   self: a, members: [{ peerId: a, zone: 'a' }, { peerId: b, zone: 'b' }, { peerId: c, zone: 'c' }],
 *   status: () => 'trusted', connected: () => true, transitions: new Set(['a>b', 'b>c']), maxHops: 4
 * })
 * // plan = { ok: true, path: [b, c] }
 * ```
 */
export function planRoute (request: RouteRequest, view: RouteView): RoutePlan {
  const zoneOf = new Map(view.members.map(m => [m.peerId, m.zone]))
  const statusOf = (p: string): TrustStatus => zoneOf.has(p) ? view.status(p) : 'unknown'
  const allowed = (from: string, to: string): boolean => from === to || view.transitions.has(`${from}>${to}`)
  const selfZone = zoneOf.get(view.self)
  if (selfZone === undefined) return refuse('trust.unknown', 'this node is not a member, so no route starts here')
  const limit = Math.min(view.maxHops, MAX_PATH)
  // A route naming the origin first is the same route without it.
  const explicit = request.route[0] === view.self ? request.route.slice(1) : [...request.route]
  const targetZone = request.target.startsWith(ZONE_TARGET_PREFIX)
    ? request.target.slice(ZONE_TARGET_PREFIX.length)
    : undefined

  for (const p of explicit) {
    const s = statusOf(p)
    if (s !== 'trusted') return refuse(`trust.${s}`, `route peer ${p} is ${s}`)
  }
  if (targetZone === undefined && !zoneOf.has(request.target)) {
    return refuse('trust.unknown', `target ${request.target} is not a member`)
  }
  const start = explicit.at(-1) ?? view.self
  const startZone = zoneOf.get(start)!
  const reached = targetZone !== undefined
    ? (explicit.length > 0 ? startZone === targetZone : selfZone === targetZone)
    : start === request.target
  const least = explicit.length + (reached ? 0 : 1)
  if (least > limit) return refuse('hops.exceeded', `the route takes at least ${least} hops; the limit is ${limit}`)
  let from = selfZone
  for (const [i, p] of explicit.entries()) {
    const to = zoneOf.get(p)!
    if (!allowed(from, to)) {
      return refuse('zone.transition', `zone transition ${from} → ${to} is not allowed (route element ${i + 1}, ` +
        `${p})`)
    }
    from = to
  }
  if (reached) return { ok: true, path: explicit }

  const what = targetZone !== undefined ? `zone:${targetZone}` : request.target
  // The origin is never passed through; it is a candidate only as a peer target itself.
  const candidates = view.members
    .filter(m => m.peerId !== start && (m.peerId !== view.self || m.peerId === request.target))
  const isGoal = (m: RouteMember): boolean => targetZone !== undefined
    ? m.zone === targetZone && m.peerId !== view.self
    : m.peerId === request.target
  const goals = new Set(candidates.filter(isGoal).map(m => m.peerId))
  if (goals.size === 0) return refuse('trust.unknown', `no member in zone ${targetZone ?? '?'}`)
  const untrustedGoals = [...goals].filter(g => statusOf(g) !== 'trusted')
  if (untrustedGoals.length === goals.size) {
    const [reason, names] = inTheWay(untrustedGoals, statusOf)
    return refuse(reason, targetZone !== undefined
      ? `no trusted member in zone ${targetZone}: ${names}`
      : `target ${names}`)
  }

  const budget = limit - explicit.length
  const better = (a: string[], b: string[]): boolean => compareRoutes(a, b, view.connected) < 0
  const trusted = candidates.filter(m => statusOf(m.peerId) === 'trusted')
  const fromStart = [{ zone: startZone, path: [] }]
  const found = bestGoal(search(fromStart, new Set(), trusted, allowed, budget, better), goals, better)
  if (found !== undefined) return { ok: true, path: [...explicit, ...found.path] }

  // No trusted route: find out what stands in the way, ignoring trust first.
  const anyRoute = search(fromStart, new Set(), candidates, allowed, candidates.length, better)
  const shortest = bestGoal(anyRoute, goals, better)
  if (shortest === undefined) return noZoneRoute(startZone, targetZone ?? zoneOf.get(request.target)!, candidates, view)
  if (shortest.depth > budget) {
    return refuse('hops.exceeded', `the shortest route to ${what} takes ${explicit.length + shortest.depth} hops; ` +
      `the limit is ${limit}`)
  }
  const back = search(candidates.filter(m => goals.has(m.peerId)).map(m => ({ zone: m.zone, path: [m.peerId] })), goals,
    candidates, (a, b) => allowed(b, a), budget, () => false)
  const depthToGoal = (p: string): number | undefined => goals.has(p) ? 0 : back.get(p)?.depth
  const blocking = candidates.map(m => m.peerId).filter(p => {
    const there = anyRoute.get(p)?.depth
    const onward = depthToGoal(p)
    return statusOf(p) !== 'trusted' && there !== undefined && onward !== undefined && there + onward <= budget
  })
  const [reason, names] = inTheWay(blocking, statusOf)
  return refuse(reason, `every route to ${what} within ${limit} hops passes an untrusted peer: ${names}`)
}

function refuse (reason: Refusal['reason'], detail: string): RoutePlan {
  return { ok: false, reason, detail }
}

/**
 * Breadth-first layers over members. A step may go from a member of zone Y to any member of
 * zone Z when `step(Y, Z)`; as steps depend on zones only, each layer is expanded zone by zone
 * (the cost grows with members plus zones squared, not members squared). Each member keeps the
 * best path that reaches it at its depth.
 */
function search (
  init: Array<{ zone: string, path: string[] }>, seen: ReadonlySet<string>, nodes: readonly RouteMember[],
  step: (from: string, to: string) => boolean, maxDepth: number, better: (a: string[], b: string[]) => boolean
): Map<string, Reach> {
  const reach = new Map<string, Reach>()
  const visited = new Set(seen)
  const byZone = new Map<string, RouteMember[]>()
  for (const m of nodes) {
    if (visited.has(m.peerId)) continue
    let list = byZone.get(m.zone)
    if (list === undefined) byZone.set(m.zone, list = [])
    list.push(m)
  }
  let frontier = init
  for (let depth = 1; depth <= maxDepth && frontier.length > 0; depth++) {
    const bestIn = new Map<string, string[]>()
    for (const f of frontier) {
      const held = bestIn.get(f.zone)
      if (held === undefined || better(f.path, held)) bestIn.set(f.zone, f.path)
    }
    const next: Array<{ zone: string, path: string[] }> = []
    for (const [zone, members] of byZone) {
      let pred: string[] | undefined
      for (const [fromZone, path] of bestIn) {
        if (step(fromZone, zone) && (pred === undefined || better(path, pred))) pred = path
      }
      if (pred === undefined) continue
      for (const m of members) {
        if (visited.has(m.peerId)) continue
        visited.add(m.peerId)
        const path = [...pred, m.peerId]
        reach.set(m.peerId, { depth, path })
        next.push({ zone, path })
      }
    }
    frontier = next
  }
  return reach
}

function bestGoal (
  reach: ReadonlyMap<string, Reach>, goals: ReadonlySet<string>, better: (a: string[], b: string[]) => boolean
): Reach | undefined {
  let best: Reach | undefined
  for (const g of goals) {
    const r = reach.get(g)
    if (r === undefined) continue
    if (best === undefined || r.depth < best.depth || (r.depth === best.depth && better(r.path, best.path))) best = r
  }
  return best
}

/** Orders paths of equal length: a first peer this node is connected to, then PeerIds lexicographically. */
function compareRoutes (a: readonly string[], b: readonly string[], connected: (p: string) => boolean): number {
  const ca = a[0] !== undefined && connected(a[0]) ? 0 : 1
  const cb = b[0] !== undefined && connected(b[0]) ? 0 : 1
  if (ca !== cb) return ca - cb
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]! ? -1 : 1
  }
  return a.length - b.length
}

/** The refusal reason for untrusted peers in the way (the most serious status) and their names for the detail. */
function inTheWay (peers: readonly string[], statusOf: (p: string) => TrustStatus): [Refusal['reason'], string] {
  const sorted = [...peers].sort()
  const statuses = new Set(sorted.map(statusOf))
  const worst = STATUS_ORDER.find(s => statuses.has(s)) ?? 'unknown'
  const named = sorted.slice(0, MAX_NAMED).map(p => `${p} (${statusOf(p)})`).join(', ')
  const more = sorted.length > MAX_NAMED ? ` and ${sorted.length - MAX_NAMED} more` : ''
  return [`trust.${worst}` as Refusal['reason'], named + more]
}

/**
 * No route through members at all: either the policy allows no chain of transitions to the
 * target zone (`zone.transition`), or it does but a zone on the way has no member to pass
 * through (`trust.unknown`).
 */
function noZoneRoute (from: string, to: string, candidates: readonly RouteMember[], view: RouteView): RoutePlan {
  const next = new Map<string, string[]>()
  for (const t of view.transitions) {
    const [a, b] = t.split('>') as [string, string]
    let list = next.get(a)
    if (list === undefined) next.set(a, list = [])
    list.push(b)
  }
  const prev = new Map<string, string>([[from, from]])
  let frontier = [from]
  while (frontier.length > 0 && !prev.has(to)) {
    const layer: string[] = []
    for (const z of frontier) {
      for (const n of (next.get(z) ?? []).sort()) {
        if (!prev.has(n)) { prev.set(n, z); layer.push(n) }
      }
    }
    frontier = layer
  }
  if (!prev.has(to)) {
    return refuse('zone.transition', `zone transition ${from} → ${to} is not allowed, ` +
      `and no chain of allowed transitions leads from ${from} to ${to}`)
  }
  const zones = [to]
  while (zones[0] !== from) zones.unshift(prev.get(zones[0]!)!)
  const peopled = new Set(candidates.map(m => m.zone))
  const empty = zones.slice(1, -1).filter(z => !peopled.has(z))
  if (empty.length === 0) {
    return refuse('zone.transition', `no allowed chain of zone transitions leads from ${from} to ${to}`)
  }
  return refuse('trust.unknown',
    `the route ${zones.join(' → ')} needs a member of zone ${empty.join(', ')}, which has none`)
}

import type { PolicyDocument, PolicyRule } from './policy-schema.js'

/** Machine-readable refusal reasons shared by decisions and `exec.refuse` entries. */
export const REFUSAL_REASONS = [
  'policy.denied', 'trust.quarantined', 'trust.stale', 'trust.drifted', 'trust.unknown',
  'hops.exceeded', 'zone.transition', 'self.quarantined', 'policy.missing', 'ancestry.invalid', 'timeout'
] as const
export type RefusalReason = typeof REFUSAL_REASONS[number]

/** A machine-readable reason to refuse an execution, with a detail for humans (`exec.refuse`). */
export interface Refusal {
  reason: RefusalReason
  detail: string
  /** Ids of the policy rules that decided, when rules decided (see {@link Decision.rules}). */
  rules?: string[]
}

export type TrustStatus = 'trusted' | 'stale' | 'drifted' | 'quarantined' | 'unknown'

/** What is being asked, as seen by the node deciding. */
export interface DecisionRequest {
  /** `local` for the node's local operator, else the agent's hex public key. */
  principal: string
  /** True when the request carries a valid agent signature. */
  signed: boolean
  action: string
  resource: string
  /** Zone of the node that would execute (or the next hop's zone when forwarding). */
  zone: string
  /** Zone the request comes from; a change of zone must be an allowed transition. */
  fromZone?: string
  /** Hops taken so far, counting the one being decided. */
  hops: number
  /** Peers whose trust matters: the remaining route and the authors of the request's ancestry. */
  peers?: readonly string[]
}

/** Trust inputs to a decision: this node's own status and a lookup for peers. */
export interface DecisionTrust {
  self: TrustStatus
  peer: (id: string) => TrustStatus
}

export interface DecisionReason {
  code: RefusalReason | 'policy.allowed'
  detail: string
}

export interface Decision {
  allow: boolean
  /** The first refusal reason, or null when allowed. */
  reason: RefusalReason | null
  reasons: DecisionReason[]
  policyDigest: string
  /**
   * Ids of the rules that decided: the deny rule that refused; every allow rule that matched;
   * the rule whose hop limit or signature requirement refused. Empty when no rule matched or
   * a check before the rules (trust, hops, zone transition) decided.
   */
  rules: string[]
}

type Matcher = (s: string) => boolean

interface CompiledRule {
  rule: PolicyRule
  principals: ReadonlySet<string>
  anyPrincipal: boolean
  roles: readonly string[]
  resource: Matcher
  zones: ReadonlySet<string> | null
}

/** A policy prepared for fast decisions: rules indexed by exact action, patterns precompiled. */
export interface CompiledPolicy {
  digest: string
  present: boolean
  maxHops: number
  exact: ReadonlyMap<string, CompiledRule[]>
  patterned: ReadonlyArray<{ match: Matcher, rule: CompiledRule }>
  /** principal → roles it holds. */
  rolesOf: ReadonlyMap<string, ReadonlySet<string>>
  transitions: ReadonlySet<string>
}

function globToMatcher (pattern: string): Matcher {
  if (pattern === '*') return () => true
  const star = pattern.indexOf('*')
  if (star === -1) return (s) => s === pattern
  if (star === pattern.length - 1 && pattern.indexOf('*') === star) {
    const prefix = pattern.slice(0, -1)
    return (s) => s.startsWith(prefix)
  }
  const re = new RegExp('^' + pattern.split('*').map(p => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$')
  return (s) => re.test(s)
}

function anyOf (patterns: string[]): Matcher {
  const ms = patterns.map(globToMatcher)
  if (ms.length === 1) return ms[0]!
  return (s) => ms.some(m => m(s))
}

/**
 * Compiles a policy document for {@link decide}. Done once per policy digest.
 *
 * @example
 * ```ts
 * const compiled = compilePolicy(policy.document(), policy.digest(), policy.hasPolicy)
 * ```
 */
export function compilePolicy (doc: PolicyDocument, digest: string, present = true): CompiledPolicy {
  const exact = new Map<string, CompiledRule[]>()
  const patterned: Array<{ match: Matcher, rule: CompiledRule }> = []
  for (const rule of doc.rules) {
    const principals = new Set<string>()
    const roles: string[] = []
    let anyPrincipal = false
    for (const p of rule.principals) {
      if (p === '*') anyPrincipal = true
      else if (p.startsWith('role:')) roles.push(p.slice(5))
      else principals.add(p.startsWith('key:') ? p.slice(4).toLowerCase() : p)
    }
    const compiled: CompiledRule = {
      rule,
      principals,
      anyPrincipal,
      roles,
      resource: anyOf(rule.resources),
      zones: rule.zones.includes('*') ? null : new Set(rule.zones)
    }
    for (const a of rule.actions) {
      if (a.includes('*')) {
        patterned.push({ match: globToMatcher(a), rule: compiled })
      } else {
        let list = exact.get(a)
        if (list === undefined) exact.set(a, list = [])
        list.push(compiled)
      }
    }
  }
  const rolesOf = new Map<string, Set<string>>()
  for (const [role, members] of Object.entries(doc.roles)) {
    for (const m of members) {
      let set = rolesOf.get(m)
      if (set === undefined) rolesOf.set(m, set = new Set())
      set.add(role)
    }
  }
  return {
    digest,
    present,
    maxHops: doc.maxHops,
    exact,
    patterned,
    rolesOf,
    transitions: new Set(doc.transitions.map(([a, b]) => `${a}>${b}`))
  }
}

function principalMatches (r: CompiledRule, principal: string, roles: ReadonlySet<string> | undefined): boolean {
  if (r.anyPrincipal || r.principals.has(principal)) return true
  if (roles !== undefined) for (const role of r.roles) if (roles.has(role)) return true
  return false
}

function refuse (code: RefusalReason, detail: string, digest: string, rules: string[] = []): Decision {
  return { allow: false, reason: code, reasons: [{ code, detail }], policyDigest: digest, rules }
}

/**
 * Steps 1 and 2 of {@link decide}: a node without a policy, or not trusted itself, refuses
 * everything, whatever is asked (so the origin asks this before it plans a route).
 *
 * @example
 * ```ts
 * selfRefusal(compiled, 'quarantined') // { reason: 'self.quarantined', detail: 'this node is quarantined' }
 * ```
 */
export function selfRefusal (policy: { present: boolean }, self: TrustStatus): Refusal | undefined {
  if (!policy.present) return { reason: 'policy.missing', detail: 'this node has no policy yet' }
  if (self === 'trusted') return undefined
  return { reason: self === 'quarantined' ? 'self.quarantined' : `trust.${self}`, detail: `this node is ${self}` }
}

/**
 * Decides a request against a compiled policy and the trust view. Pure. Checks, in
 * order: policy present, own status, trust of every named peer, hop limits, zone
 * transition, then rules: any matching deny wins, else a matching allow, else deny.
 *
 * @example
 * ```ts
 * const d = decide({ principal: 'local', signed: false, action: 'echo', resource: 'x', zone: 'a', hops: 1 },
 *   compiled, { self: 'trusted', peer: () => 'trusted' })
 * if (!d.allow) console.log(d.reason, d.reasons)
 * ```
 */
export function decide (request: DecisionRequest, policy: CompiledPolicy, trust: DecisionTrust): Decision {
  const digest = policy.digest
  const own = selfRefusal(policy, trust.self)
  if (own !== undefined) return refuse(own.reason, own.detail, digest)
  if (request.peers !== undefined) {
    for (const peer of request.peers) {
      const status = trust.peer(peer)
      if (status !== 'trusted') return refuse(`trust.${status}`, `peer ${peer} is ${status}`, digest)
    }
  }
  if (request.hops > policy.maxHops) {
    return refuse('hops.exceeded', `${request.hops} hops exceeds the policy limit of ${policy.maxHops}`, digest)
  }
  if (request.fromZone !== undefined && request.fromZone !== request.zone &&
      !policy.transitions.has(`${request.fromZone}>${request.zone}`)) {
    return refuse('zone.transition', `zone transition ${request.fromZone} → ${request.zone} is not allowed`, digest)
  }
  const roles = policy.rolesOf.get(request.principal)
  let allowedBy: PolicyRule | undefined
  const allowing: string[] = []
  let hopLimited: PolicyRule | undefined
  let needsSignature: PolicyRule | undefined
  const consider = (r: CompiledRule): Decision | undefined => {
    if (!principalMatches(r, request.principal, roles)) return undefined
    if (r.zones !== null && !r.zones.has(request.zone)) return undefined
    if (!r.resource(request.resource)) return undefined
    if (r.rule.effect === 'deny') {
      return refuse('policy.denied', `denied by rule "${r.rule.id}"`, digest, [r.rule.id])
    }
    if (r.rule.requireSigned && !request.signed) { needsSignature ??= r.rule; return undefined }
    if (r.rule.maxHops !== null && request.hops > r.rule.maxHops) { hopLimited ??= r.rule; return undefined }
    allowedBy ??= r.rule
    if (!allowing.includes(r.rule.id)) allowing.push(r.rule.id)
    return undefined
  }
  const list = policy.exact.get(request.action)
  if (list !== undefined) {
    for (const r of list) {
      const denied = consider(r)
      if (denied !== undefined) return denied
    }
  }
  for (const p of policy.patterned) {
    if (!p.match(request.action)) continue
    const denied = consider(p.rule)
    if (denied !== undefined) return denied
  }
  if (allowedBy !== undefined) {
    return {
      allow: true,
      reason: null,
      reasons: [{ code: 'policy.allowed', detail: `allowed by rule "${allowedBy.id}"` }],
      policyDigest: digest,
      rules: allowing.sort()
    }
  }
  if (hopLimited !== undefined) {
    return refuse(
      'hops.exceeded', `rule "${hopLimited.id}" allows at most ${hopLimited.maxHops} hops`, digest, [hopLimited.id]
    )
  }
  if (needsSignature !== undefined) {
    return refuse('policy.denied', `rule "${needsSignature.id}" requires a request signed by an agent key`, digest,
      [needsSignature.id])
  }
  return refuse(
    'policy.denied', `no rule allows ${request.action} on ${request.resource} for ${request.principal}`, digest
  )
}

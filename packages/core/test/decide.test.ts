/**
 * Decision semantics: deny overrides allow, nothing matching is deny, patterns,
 * roles, signatures, hop limits, zone transitions, and fail-closed trust inputs.
 * Every decision carries the digest of the policy it used.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  compilePolicy, createPolicyState, decide, parsePolicyDocument, policyDigest, policyUpdateFor,
  type CompiledPolicy, type DecisionRequest, type DecisionTrust, type PolicyDocument, type TrustStatus
} from '../src/index.js'

const AGENT = '1f'.repeat(32)
const OTHER = '2e'.repeat(32)

function compiled (json: unknown, present = true): CompiledPolicy {
  const doc = parsePolicyDocument(json)
  return compilePolicy(doc, policyDigest(doc), present)
}

const TRUSTED: DecisionTrust = { self: 'trusted', peer: () => 'trusted' }

function req (over: Partial<DecisionRequest> = {}): DecisionRequest {
  return { principal: 'local', signed: false, action: 'echo', resource: 'r', zone: 'a', hops: 1, ...over }
}

const allow = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ id, effect: 'allow', principals: ['*'], actions: ['*'], ...extra })
const deny = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ id, effect: 'deny', principals: ['*'], actions: ['*'], ...extra })

describe('rules', () => {
  it('deny overrides allow, whichever rule comes first and whether exact or patterned', () => {
    const p = compiled(
      {
        rules: [
          allow('a-echo', { actions: ['echo'] }), deny('no-secrets', { actions: ['ec*'], resources: ['secret/*'] })
        ]
      }
    )
    const d = decide(req({ resource: 'secret/x' }), p, TRUSTED)
    expect(d).toMatchObject({ allow: false, reason: 'policy.denied' })
    expect(d.reasons[0]!.detail).toContain('no-secrets')
    const ok = decide(req({ resource: 'public/x' }), p, TRUSTED)
    expect(ok).toMatchObject({ allow: true, reason: null })
    expect(ok.reasons).toEqual([{ code: 'policy.allowed', detail: 'allowed by rule "a-echo"' }])
    // An exact-action deny beats a wildcard allow too.
    const q = compiled({ rules: [allow('all'), deny('no-rm', { actions: ['rm'] })] })
    expect(decide(req({ action: 'rm' }), q, TRUSTED).reason).toBe('policy.denied')
    expect(decide(req({ action: 'ls' }), q, TRUSTED).allow).toBe(true)
  })

  it('nothing matches: deny with policy.denied; an empty policy denies everything', () => {
    const p = compiled({ rules: [allow('only-echo', { actions: ['echo'] })] })
    const d = decide(req({ action: 'rm' }), p, TRUSTED)
    expect(d.allow).toBe(false)
    expect(d.reason).toBe('policy.denied')
    expect(d.reasons[0]!.detail).toMatch(/no rule allows rm/)
    expect(decide(req(), compiled({}), TRUSTED).reason).toBe('policy.denied')
  })

  it('wildcards: * anywhere in resources, trailing * as action prefix, regex characters literal', () => {
    const p = compiled({
      rules: [
        allow('logs', { actions: ['read'], resources: ['logs/*'] }),
        allow('db', { actions: ['db.*'], resources: ['v1.*.json', 'exact.txt'] })
      ]
    })
    expect(decide(req({ action: 'read', resource: 'logs/a/b' }), p, TRUSTED).allow).toBe(true)
    expect(decide(req({ action: 'read', resource: 'logs' }), p, TRUSTED).allow).toBe(false)
    expect(decide(req({ action: 'read', resource: 'xlogs/a' }), p, TRUSTED).allow).toBe(false)
    expect(decide(req({ action: 'db.read', resource: 'v1.users.json' }), p, TRUSTED).allow).toBe(true)
    expect(decide(req({ action: 'db.read', resource: 'v1Xusers.json' }), p, TRUSTED).allow).toBe(false)
    expect(decide(req({ action: 'db.read', resource: 'v1.users.jsonx' }), p, TRUSTED).allow).toBe(false)
    expect(decide(req({ action: 'db.read', resource: 'exact.txt' }), p, TRUSTED).allow).toBe(true)
    expect(decide(req({ action: 'db.read', resource: 'exactXtxt' }), p, TRUSTED).allow).toBe(false)
    expect(decide(req({ action: 'dbx', resource: 'exact.txt' }), p, TRUSTED).allow).toBe(false)
    expect(decide(req({ action: 'db.', resource: 'exact.txt' }), p, TRUSTED).allow).toBe(true)
    // Omitted resources and zones mean all.
    const any = compiled({ rules: [allow('x', { actions: ['go'] })] })
    expect(decide(req({ action: 'go', resource: 'anything/at/all', zone: 'z9' }), any, TRUSTED).allow).toBe(true)
  })

  it('principals: exact keys, key:HEX (case-insensitive), local, and roles', () => {
    const p = compiled({
      rules: [
        allow('by-role', { actions: ['deploy'], principals: ['role:ops'] }),
        allow('by-key', { actions: ['read'], principals: [`key:${OTHER.toUpperCase()}`] }),
        allow('local-only', { actions: ['admin'], principals: ['local'] }),
        allow('raw-key', { actions: ['write'], principals: [AGENT] })
      ],
      roles: { ops: [AGENT, 'local'] }
    })
    expect(decide(req({ principal: AGENT, action: 'deploy' }), p, TRUSTED).allow).toBe(true)
    expect(decide(req({ principal: 'local', action: 'deploy' }), p, TRUSTED).allow).toBe(true)
    expect(decide(req({ principal: OTHER, action: 'deploy' }), p, TRUSTED).allow).toBe(false)
    expect(decide(req({ principal: OTHER, action: 'read' }), p, TRUSTED).allow).toBe(true)
    expect(decide(req({ principal: AGENT, action: 'read' }), p, TRUSTED).allow).toBe(false)
    expect(decide(req({ principal: 'local', action: 'admin' }), p, TRUSTED).allow).toBe(true)
    expect(decide(req({ principal: AGENT, action: 'admin' }), p, TRUSTED).allow).toBe(false)
    expect(decide(req({ principal: AGENT, action: 'write' }), p, TRUSTED).allow).toBe(true)
    expect(decide(req({ principal: OTHER, action: 'write' }), p, TRUSTED).allow).toBe(false)
    // A role deny applies to its holders only.
    const q = compiled(
      {
        rules: [allow('all'), deny('no-ops-rm', { actions: ['rm'], principals: ['role:ops'] })], roles: { ops: [AGENT] }
      }
    )
    expect(decide(req({ principal: AGENT, action: 'rm' }), q, TRUSTED).reason).toBe('policy.denied')
    expect(decide(req({ principal: OTHER, action: 'rm' }), q, TRUSTED).allow).toBe(true)
  })

  it('rule zones restrict where a rule applies', () => {
    const p = compiled({ rules: [allow('in-a', { zones: ['a'] }), deny('not-c', { zones: ['c'] })] })
    expect(decide(req({ zone: 'a' }), p, TRUSTED).allow).toBe(true)
    expect(decide(req({ zone: 'b' }), p, TRUSTED)).toMatchObject({ allow: false, reason: 'policy.denied' })
    expect(decide(req({ zone: 'c' }), p, TRUSTED).reasons[0]!.detail).toContain('not-c')
  })

  it('requireSigned: matches only signed requests', () => {
    const p = compiled({ rules: [allow('signed', { requireSigned: true, principals: [AGENT] })] })
    const unsigned = decide(req({ principal: AGENT, signed: false }), p, TRUSTED)
    expect(unsigned).toMatchObject({ allow: false, reason: 'policy.denied' })
    expect(unsigned.reasons[0]!.detail).toMatch(/requires a request signed/)
    expect(decide(req({ principal: AGENT, signed: true }), p, TRUSTED).allow).toBe(true)
    // Another rule without the requirement can still allow.
    const q = compiled({ rules: [allow('signed', { requireSigned: true }), allow('echo-any', { actions: ['echo'] })] })
    expect(decide(req({ signed: false }), q, TRUSTED).reasons[0]!.detail).toContain('echo-any')
  })
})

describe('hops', () => {
  it('rule maxHops: beyond it the rule does not allow (hops.exceeded if nothing else does)', () => {
    const p = compiled({ rules: [allow('short', { maxHops: 2 })] })
    expect(decide(req({ hops: 2 }), p, TRUSTED).allow).toBe(true)
    const d = decide(req({ hops: 3 }), p, TRUSTED)
    expect(d).toMatchObject({ allow: false, reason: 'hops.exceeded' })
    expect(d.reasons[0]!.detail).toMatch(/"short" allows at most 2 hops/)
    // Another allowing rule with a higher limit wins over the hop-limited one.
    const q = compiled({ rules: [allow('short', { maxHops: 2 }), allow('long', { maxHops: 5 })] })
    expect(decide(req({ hops: 4 }), q, TRUSTED).reasons[0]!.detail).toContain('long')
  })

  it('policy maxHops refuses before any rule is considered', () => {
    const p = compiled({ rules: [allow('all')], maxHops: 3 })
    expect(decide(req({ hops: 3 }), p, TRUSTED).allow).toBe(true)
    const d = decide(req({ hops: 4 }), p, TRUSTED)
    expect(d).toMatchObject({ allow: false, reason: 'hops.exceeded' })
    expect(d.reasons[0]!.detail).toMatch(/policy limit of 3/)
    // The default limit is 8.
    expect(decide(req({ hops: 8 }), compiled({ rules: [allow('all')] }), TRUSTED).allow).toBe(true)
    expect(decide(req({ hops: 9 }), compiled({ rules: [allow('all')] }), TRUSTED).reason).toBe('hops.exceeded')
  })
})

describe('zones', () => {
  const p = compiled({ rules: [allow('all')], transitions: [['a', 'b']] })
  it('an allowed transition passes; another is zone.transition; same zone always passes', () => {
    expect(decide(req({ fromZone: 'a', zone: 'b' }), p, TRUSTED).allow).toBe(true)
    const d = decide(req({ fromZone: 'a', zone: 'c' }), p, TRUSTED)
    expect(d).toMatchObject({ allow: false, reason: 'zone.transition' })
    expect(d.reasons[0]!.detail).toMatch(/a → c/)
    // Transitions are directed.
    expect(decide(req({ fromZone: 'b', zone: 'a' }), p, TRUSTED).reason).toBe('zone.transition')
    expect(decide(req({ fromZone: 'c', zone: 'c' }), p, TRUSTED).allow).toBe(true)
    expect(decide(req({ zone: 'c' }), p, TRUSTED).allow).toBe(true)
  })

  it('a zone transition refusal comes before rules, even a matching deny', () => {
    const q = compiled({ rules: [deny('none')], transitions: [] })
    expect(decide(req({ fromZone: 'a', zone: 'b' }), q, TRUSTED).reason).toBe('zone.transition')
  })
})

describe('fail closed', () => {
  const p = compiled({ rules: [allow('all')] })

  it('no policy: policy.missing, before anything else', () => {
    const missing = compiled({ rules: [allow('all')] }, false)
    const d = decide(req(), missing, { self: 'quarantined', peer: () => 'unknown' })
    expect(d).toMatchObject({ allow: false, reason: 'policy.missing' })
    // A node that never received a policy update.
    const empty = createPolicyState()
    const c = compilePolicy(empty.document(), empty.digest(), empty.hasPolicy)
    expect(decide(req(), c, TRUSTED).reason).toBe('policy.missing')
  })

  it('this node not trusted: self.quarantined, or its own status', () => {
    const cases: Array<[TrustStatus, string]> = [
      ['quarantined', 'self.quarantined'], ['stale', 'trust.stale'], ['drifted', 'trust.drifted'],
      ['unknown', 'trust.unknown']
    ]
    for (const [self, reason] of cases) {
      const d = decide(req(), p, { self, peer: () => 'trusted' })
      expect(d).toMatchObject({ allow: false, reason })
    }
  })

  it('any named peer not trusted refuses with that peer\'s status, naming it', () => {
    for (const status of ['stale', 'quarantined', 'unknown', 'drifted'] as const) {
      const trust: DecisionTrust = { self: 'trusted', peer: (id) => id === 'p2' ? status : 'trusted' }
      const d = decide(req({ peers: ['p1', 'p2', 'p3'] }), p, trust)
      expect(d).toMatchObject({ allow: false, reason: `trust.${status}` })
      expect(d.reasons[0]!.detail).toContain('p2')
      expect(decide(req({ peers: ['p1', 'p3'] }), p, trust).allow).toBe(true)
    }
    // Peer checks come before hop and rule checks.
    const d = decide(
      req({ peers: ['x'], hops: 99, action: 'nothing-allows-this' }), compiled({}),
      { self: 'trusted', peer: () => 'stale' }
    )
    expect(d.reason).toBe('trust.stale')
  })

  it('self is checked before peers', () => {
    const d = decide(req({ peers: ['p'] }), p, { self: 'quarantined', peer: () => 'unknown' })
    expect(d.reason).toBe('self.quarantined')
  })
})

describe('digest', () => {
  it('every decision carries the digest of the policy used', () => {
    const doc = parsePolicyDocument({ rules: [allow('all', { actions: ['echo'] })] })
    const state = createPolicyState({ updates: [policyUpdateFor(null, doc)!] })
    const c = compilePolicy(state.document(), state.digest(), state.hasPolicy)
    expect(state.digest()).toBe(policyDigest(doc))
    for (const r of [req(), req({ action: 'rm' }), req({ hops: 100 }), req({ peers: ['x'] })]) {
      expect(decide(r, c, { self: 'trusted', peer: () => 'stale' }).policyDigest).toBe(state.digest())
    }
    expect(decide(req(), c, { self: 'quarantined', peer: () => 'trusted' }).policyDigest).toBe(state.digest())
  })
})

describe('properties', () => {
  const ACTIONS = ['echo', 'db.read', 'db.write', 'rm']
  const RESOURCES = ['a', 'a/b', 'secret/x']
  const ruleArb = fc.record({
    effect: fc.constantFrom('allow', 'deny'),
    principals: fc.subarray(['*', 'local', AGENT, 'role:ops'], { minLength: 1 }),
    actions: fc.subarray(['*', 'echo', 'db.*', 'rm', 'db.read'], { minLength: 1 }),
    resources: fc.subarray(['*', 'a', 'a/*', 'secret/*'], { minLength: 1 }),
    zones: fc.subarray(['*', 'a', 'b'], { minLength: 1 }),
    maxHops: fc.option(fc.integer({ min: 1, max: 4 })),
    requireSigned: fc.boolean()
  })
  const reqArb = fc.record({
    principal: fc.constantFrom('local', AGENT, OTHER),
    signed: fc.boolean(),
    action: fc.constantFrom(...ACTIONS),
    resource: fc.constantFrom(...RESOURCES),
    zone: fc.constantFrom('a', 'b'),
    hops: fc.integer({ min: 1, max: 5 })
  })
  const docOf = (rules: Array<Record<string, unknown>>): PolicyDocument =>
    parsePolicyDocument({ rules: rules.map((r, i) => ({ ...r, id: `r${i}` })), roles: { ops: [AGENT] } })

  /** A direct reading of the documented semantics, rule by rule. */
  function model (doc: PolicyDocument, r: DecisionRequest): boolean {
    if (r.hops > doc.maxHops) return false
    const glob = (p: string, s: string): boolean => new RegExp(
      '^' + p.split('*').map(x => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$'
    ).test(s)
    const roles = Object.entries(doc.roles).filter(([, m]) => m.includes(r.principal)).map(([n]) => n)
    const matching = doc.rules.filter(rule =>
      rule.principals.some(
        p => p === '*' || p === r.principal || (p.startsWith('role:') && roles.includes(p.slice(5)))
      ) &&
      rule.actions.some(a => glob(a, r.action)) &&
      rule.resources.some(x => glob(x, r.resource)) &&
      (rule.zones.includes('*') || rule.zones.includes(r.zone)))
    if (matching.some(m => m.effect === 'deny')) return false
    return matching.some(
      m => m.effect === 'allow' && (!m.requireSigned || r.signed) && (m.maxHops === null || r.hops <= m.maxHops)
    )
  }

  it('decide agrees with a direct model of the rules', () => {
    fc.assert(fc.property(fc.array(ruleArb, { maxLength: 6 }), reqArb, (rules, r) => {
      const doc = docOf(rules)
      const d = decide(r, compilePolicy(doc, 'd'), TRUSTED)
      expect(d.allow).toBe(model(doc, r))
      expect(d.allow ? d.reason === null : d.reason !== null).toBe(true)
    }), { seed: 42, numRuns: 500 })
  })

  it('adding a matching deny rule always denies; rule order never matters', () => {
    fc.assert(fc.property(fc.array(ruleArb, { maxLength: 6 }), reqArb, fc.integer(), (rules, r, seed) => {
      const doc = docOf(rules)
      const withDeny: PolicyDocument = {
        ...doc,
        rules: [
          ...doc.rules,
          {
            id: 'zz-deny', effect: 'deny', principals: ['*'], actions: [r.action], resources: ['*'], zones: ['*'],
            maxHops: null, requireSigned: false
          }
        ]
      }
      expect(decide(r, compilePolicy(withDeny, 'd'), TRUSTED).allow).toBe(false)
      const a = decide(r, compilePolicy(doc, 'd'), TRUSTED)
      const shuffled = { ...doc, rules: [...doc.rules].reverse() }
      const rnd = fc.sample(
        fc.shuffledSubarray(doc.rules, { minLength: doc.rules.length, maxLength: doc.rules.length }),
        { seed, numRuns: 1 }
      )[0]!
      expect(decide(r, compilePolicy(shuffled, 'd'), TRUSTED).allow).toBe(a.allow)
      expect(
        decide(r, compilePolicy({ ...doc, rules: rnd }, 'd'), TRUSTED)
      ).toMatchObject({ allow: a.allow, reason: a.reason })
    }), { seed: 42, numRuns: 300 })
  })
})

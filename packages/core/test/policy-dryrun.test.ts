/**
 * Which rule decided: every decision names its deciding rules; the dry-run helpers (test, diff)
 * report them without a node.
 */
import { describe, expect, it } from 'vitest'
import {
  compilePolicy, decide, diffPolicy, parsePolicyDocument, parsePolicyTestRequest, policyDigest, testPolicy,
  type DecisionRequest
} from '../src/index.js'

const doc = parsePolicyDocument({
  rules: [
    { id: 'echo', effect: 'allow', principals: ['*'], actions: ['echo'] },
    { id: 'echo-too', effect: 'allow', principals: ['local'], actions: ['ech*'] },
    { id: 'short', effect: 'allow', principals: ['*'], actions: ['far'], maxHops: 1 },
    { id: 'signed', effect: 'allow', principals: ['*'], actions: ['secure'], requireSigned: true },
    { id: 'no-secret', effect: 'deny', principals: ['*'], actions: ['*'], resources: ['secret/*'] }
  ]
})
const policy = compilePolicy(doc, policyDigest(doc))
const TRUSTED = { self: 'trusted' as const, peer: () => 'trusted' as const }
const req = (over: Partial<DecisionRequest> = {}): DecisionRequest =>
  ({ principal: 'local', signed: false, action: 'echo', resource: 'r', zone: 'a', hops: 1, ...over })

describe('rule ids in decisions', () => {
  it('an allow names every allow rule that matched; a deny names the deny rule', () => {
    expect(decide(req(), policy, TRUSTED).rules).toEqual(['echo', 'echo-too'])
    expect(decide(req({ principal: 'ab'.repeat(32), signed: true }), policy, TRUSTED).rules).toEqual(['echo'])
    expect(decide(req({ resource: 'secret/x' }), policy, TRUSTED).rules).toEqual(['no-secret'])
  })
  it('a hop limit or signature requirement names its rule; no match and non-rule refusals name none', () => {
    expect(
      decide(req({ action: 'far', hops: 2 }), policy, TRUSTED)
    ).toMatchObject({ reason: 'hops.exceeded', rules: ['short'] })
    expect(
      decide(req({ action: 'secure' }), policy, TRUSTED)
    ).toMatchObject({ reason: 'policy.denied', rules: ['signed'] })
    expect(decide(req({ action: 'rm' }), policy, TRUSTED)).toMatchObject({ reason: 'policy.denied', rules: [] })
    expect(decide(req(), policy, { self: 'quarantined', peer: () => 'trusted' })).toMatchObject({ rules: [] })
  })
})

describe('policy test and diff', () => {
  it('testPolicy decides each request under the proposed document', () => {
    const out = testPolicy(doc, [
      parsePolicyTestRequest({ principal: 'local', action: 'echo', resource: 'secret/1', zone: 'a' }),
      parsePolicyTestRequest({ principal: 'local', action: 'echo', resource: 'ok', zone: 'b', fromZone: 'a' })
    ])
    expect(out.decisions.map(d => [d.allow, d.reason, d.rules])).toEqual([
      [false, 'policy.denied', ['no-secret']],
      [false, 'zone.transition', []]
    ])
  })
  it('parsePolicyTestRequest names the bad field', () => {
    expect(() => parsePolicyTestRequest({ principal: 'local', action: 'echo', resource: 'r' })).toThrow(/request\.zone/)
    expect(
      () => parsePolicyTestRequest({ principal: 'x', action: 'echo', resource: 'r', zone: 'a' })
    ).toThrow(/principal/)
    expect(
      () => parsePolicyTestRequest({ principal: 'local', action: 'e', resource: 'r', zone: 'a', hops: 1 })
    ).toThrow(/hops/)
  })
  it('diffPolicy reports added, removed and changed items, and nothing for an equal document', () => {
    const next = parsePolicyDocument({
      rules: [
        { id: 'echo', effect: 'allow', principals: ['local'], actions: ['echo'] },
        { id: 'new', effect: 'deny', principals: ['*'], actions: ['rm'] }
      ],
      transitions: [['a', 'b']],
      maxHops: 3
    })
    const d = diffPolicy(doc, next)
    expect(d.changed).toBe(true)
    expect(d.rules.added.map(r => r.id)).toEqual(['new'])
    expect(d.rules.removed.map(r => r.id)).toEqual(['echo-too', 'no-secret', 'short', 'signed'])
    expect(
      d.rules.changed.map(c => [c.id, c.before.principals, c.after.principals])
    ).toEqual([['echo', ['*'], ['local']]])
    expect(d.transitions.added).toEqual([['a', 'b']])
    expect(d.settings).toEqual([{ id: 'maxHops', before: 8, after: 3 }])
    expect(diffPolicy(doc, doc).changed).toBe(false)
  })
})

import { PolicySchemaError } from './errors.js'
import { ZONE_PATTERN } from './limits.js'

/** One authorization rule. Deny overrides allow; a request no rule allows is denied. */
export interface PolicyRule {
  id: string
  effect: 'allow' | 'deny'
  /** `*`, `local` (the node's local operator), a hex agent key, `key:HEX`, or `role:NAME`. */
  principals: string[]
  /** Action names; `*` and trailing-`*` prefixes match. */
  actions: string[]
  /** Resource names; `*` matches any run of characters. */
  resources: string[]
  /** Zones where the rule applies (the executing node's zone); `*` for all. */
  zones: string[]
  /** Most hops this rule allows, or null for the policy-wide limit. */
  maxHops: number | null
  /** When true the rule only matches requests signed by an agent key. */
  requireSigned: boolean
}

export interface PolicyTiming {
  /** How often nodes publish attestation heartbeats. */
  heartbeatMs: number
  /** A peer with no valid heartbeat for this long is `stale`. */
  staleMs: number
  /** A peer advertising another policy digest for this long is `drifted`. */
  driftGraceMs: number
}

/** The materialized policy: what a policy file holds and what the digest covers. */
export interface PolicyDocument {
  rules: PolicyRule[]
  /** Role name → principals (hex keys or `local`). */
  roles: Record<string, string[]>
  /** Allowed zone transitions `[from, to]`; staying within a zone is always allowed. */
  transitions: Array<[string, string]>
  /** Allowlisted runtime measurements (lower-case hex). */
  measurements: string[]
  timing: PolicyTiming
  /** Policy-wide hop limit. */
  maxHops: number
}

export const DEFAULT_TIMING: PolicyTiming = { heartbeatMs: 1000, staleMs: 5000, driftGraceMs: 5000 }
export const DEFAULT_MAX_HOPS = 8

const RULE_FIELDS = ['id', 'effect', 'principals', 'actions', 'resources', 'zones', 'maxHops', 'requireSigned']
const DOC_FIELDS = ['rules', 'roles', 'transitions', 'measurements', 'timing', 'maxHops']
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:/*@-]{0,127}$/

function fail (path: string, msg: string): never {
  throw new PolicySchemaError(`${path}: ${msg}`)
}

function isObject (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function onlyFields (v: Record<string, unknown>, allowed: string[], path: string): void {
  for (const k of Object.keys(v)) if (!allowed.includes(k)) fail(`${path}.${k}`, 'unknown field')
}

function stringList (
  v: unknown, path: string, check: (s: string) => boolean, what: string, required: boolean
): string[] {
  if (v === undefined && !required) return ['*']
  if (!Array.isArray(v) || v.length === 0) fail(path, 'expected a non-empty array of strings')
  return [...new Set(v.map((s, i) => {
    if (typeof s !== 'string' || !check(s)) fail(`${path}[${i}]`, `expected ${what}`)
    return s
  }))].sort()
}

function positiveInt (v: unknown, path: string, max: number): number {
  if (
    typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max
  ) fail(path, `expected an integer from 1 to ${max}`)
  return v
}

/**
 * Validates a policy file's JSON and returns it in canonical form (defaults filled,
 * lists sorted and deduplicated, rules sorted by id). Throws PolicySchemaError
 * naming the offending field.
 *
 * @example
 * ```ts
 * const doc = parsePolicyDocument(JSON.parse(readFileSync('policy.json', 'utf8')))
 * ```
 */
export function parsePolicyDocument (json: unknown): PolicyDocument {
  if (!isObject(json)) fail('policy', 'expected an object')
  onlyFields(json, DOC_FIELDS, 'policy')
  const rulesIn = json.rules ?? []
  if (!Array.isArray(rulesIn)) fail('policy.rules', 'expected an array')
  const ids = new Set<string>()
  const rules = rulesIn.map((r, i): PolicyRule => {
    const path = `policy.rules[${i}]`
    if (!isObject(r)) fail(path, 'expected an object')
    onlyFields(r, RULE_FIELDS, path)
    if (typeof r.id !== 'string' || !NAME.test(r.id)) fail(`${path}.id`, 'expected a rule id (letters, digits, ._:/-)')
    if (ids.has(r.id)) fail(`${path}.id`, `duplicate rule id "${r.id}"`)
    ids.add(r.id)
    if (r.effect !== 'allow' && r.effect !== 'deny') fail(`${path}.effect`, 'expected "allow" or "deny"')
    const anyString = (s: string): boolean => s.length > 0 && s.length <= 256
    return {
      id: r.id,
      effect: r.effect,
      principals: stringList(r.principals, `${path}.principals`, anyString, 'a principal', true),
      actions: stringList(r.actions, `${path}.actions`, anyString, 'an action pattern', true),
      resources: stringList(r.resources, `${path}.resources`, anyString, 'a resource pattern', false),
      zones: stringList(r.zones, `${path}.zones`, s => s === '*' || ZONE_PATTERN.test(s), 'a zone name or *', false),
      maxHops: r.maxHops === undefined || r.maxHops === null ? null : positiveInt(r.maxHops, `${path}.maxHops`, 64),
      requireSigned: r.requireSigned === undefined ? false : typeof r.requireSigned === 'boolean' ? r.requireSigned :
        fail(
        `${path}.requireSigned`, 'expected a boolean'
      )
    }
  }).sort((a, b) => a.id < b.id ? -1 : 1)

  const rolesIn = json.roles ?? {}
  if (!isObject(rolesIn)) fail('policy.roles', 'expected an object of role → principals')
  const roles: Record<string, string[]> = {}
  for (const name of Object.keys(rolesIn).sort()) {
    if (!NAME.test(name)) fail(`policy.roles.${name}`, 'invalid role name')
    roles[name] = stringList(
      rolesIn[name], `policy.roles.${name}`, s => s === 'local' || /^[0-9a-f]{64}$/.test(s), 'a hex key or "local"',
      true
    )
  }

  const transIn = json.transitions ?? []
  if (!Array.isArray(transIn)) fail('policy.transitions', 'expected an array of [from, to]')
  const seen = new Set<string>()
  const transitions: Array<[string, string]> = []
  transIn.forEach((t, i) => {
    if (!Array.isArray(t) || t.length !== 2 || !t.every(z => typeof z === 'string' && ZONE_PATTERN.test(z))) {
      fail(`policy.transitions[${i}]`, 'expected [fromZone, toZone]')
    }
    const key = `${t[0]}>${t[1]}`
    if (!seen.has(key)) { seen.add(key); transitions.push([t[0], t[1]]) }
  })
  transitions.sort((a, b) => `${a[0]}>${a[1]}` < `${b[0]}>${b[1]}` ? -1 : 1)

  const measurements = json.measurements === undefined
    ? []
    : (Array.isArray(json.measurements) && json.measurements.length === 0)
        ? []
        : stringList(json.measurements, 'policy.measurements', s => /^[0-9a-f]{2,128}$/.test(s), 'lower-case hex', true)

  const timingIn = json.timing ?? {}
  if (!isObject(timingIn)) fail('policy.timing', 'expected an object')
  onlyFields(timingIn, ['heartbeatMs', 'staleMs', 'driftGraceMs'], 'policy.timing')
  const timing: PolicyTiming = {
    heartbeatMs: timingIn.heartbeatMs === undefined ? DEFAULT_TIMING.heartbeatMs : positiveInt(
      timingIn.heartbeatMs, 'policy.timing.heartbeatMs', 3_600_000
    ),
    staleMs: timingIn.staleMs === undefined ? DEFAULT_TIMING.staleMs : positiveInt(
      timingIn.staleMs, 'policy.timing.staleMs', 86_400_000
    ),
    driftGraceMs: timingIn.driftGraceMs === undefined ? DEFAULT_TIMING.driftGraceMs : positiveInt(
      timingIn.driftGraceMs, 'policy.timing.driftGraceMs', 86_400_000
    )
  }
  const maxHops = json.maxHops === undefined ? DEFAULT_MAX_HOPS : positiveInt(json.maxHops, 'policy.maxHops', 64)
  return { rules, roles, transitions, measurements, timing, maxHops }
}

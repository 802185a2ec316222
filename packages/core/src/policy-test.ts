import { ZONE_PATTERN } from './bodies.js'
import { compilePolicy, decide, type CompiledPolicy, type DecisionReason } from './decide.js'
import { InvalidArgumentError } from './errors.js'
import { policyDigest } from './policy.js'
import type { PolicyDocument } from './policy-schema.js'

/** A request to try against a policy: who asks for what, where. */
export interface PolicyTestRequest {
  /** `local` or an agent's hex public key (an agent principal counts as signed). */
  principal: string
  action: string
  resource: string
  /** Zone of the node that would decide (execute or forward). */
  zone: string
  /** Zone the request arrives from; a change of zone must be an allowed transition. */
  fromZone?: string
}

/** One decision of a dry run. */
export interface PolicyTestDecision {
  request: PolicyTestRequest
  allow: boolean
  /** `policy.allowed`, or the refusal reason code. */
  reason: DecisionReason['code']
  /** Ids of the rules that decided (`Decision.rules`). */
  rules: string[]
}

const REQUEST_FIELDS = ['principal', 'action', 'resource', 'zone', 'fromZone']

/**
 * Checks one dry-run request (from a CLI flag, a file or the API) and returns it typed.
 * Throws {@link InvalidArgumentError} naming the first bad field.
 *
 * @example
 * ```ts
 * parsePolicyTestRequest({ principal: 'local', action: 'echo', resource: 'r', zone: 'a' })
 * ```
 */
export function parsePolicyTestRequest (v: unknown, where = 'request'): PolicyTestRequest {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new InvalidArgumentError(`${where}: expected an object`)
  }
  const o = v as Record<string, unknown>
  const unknown = Object.keys(o).find(k => !REQUEST_FIELDS.includes(k))
  if (unknown !== undefined) {
    throw new InvalidArgumentError(`${where}.${unknown}: not a request field (${REQUEST_FIELDS.join(', ')})`)
  }
  const str = (k: string, max: number): string => {
    const s = o[k]
    if (typeof s !== 'string' || s.length === 0 || s.length > max) {
      throw new InvalidArgumentError(`${where}.${k}: expected a string of 1 to ${max} characters`)
    }
    return s
  }
  const zone = (k: string): string => {
    const z = str(k, 64)
    if (!ZONE_PATTERN.test(z)) {
      throw new InvalidArgumentError(`${where}.${k}: expected a zone name matching ${ZONE_PATTERN.source}`)
    }
    return z
  }
  const principal = str('principal', 64)
  if (principal !== 'local' && !/^[0-9a-f]{64}$/.test(principal)) {
    throw new InvalidArgumentError(`${where}.principal: expected "local" or a lower-case hex key`)
  }
  const out: PolicyTestRequest = {
    principal, action: str('action', 128), resource: str('resource', 1024), zone: zone('zone')
  }
  if (o.fromZone !== undefined) out.fromZone = zone('fromZone')
  return out
}

/** Decides one request under a compiled policy, trusting every peer: the policy alone decides. */
export function decideUnderPolicy (request: PolicyTestRequest, policy: CompiledPolicy, hops = 0): PolicyTestDecision {
  const d = decide({
    principal: request.principal,
    signed: request.principal !== 'local',
    action: request.action,
    resource: request.resource,
    zone: request.zone,
    ...(request.fromZone !== undefined ? { fromZone: request.fromZone } : {}),
    hops
  }, policy, { self: 'trusted', peer: () => 'trusted' })
  return { request, allow: d.allow, reason: d.reasons[0]?.code ?? 'policy.denied', rules: d.rules }
}

/**
 * Dry run: the decisions a proposed policy would give, with the rules that decided each.
 * Trust and hop counts are left out (every peer trusted, no hops): only the policy is tested.
 *
 * @example
 * ```ts
 * const request = { principal: 'local', action: 'echo', resource: 'r', zone: 'a' }
 * const { decisions } = testPolicy(parsePolicyDocument(json), [request])
 * ```
 */
export function testPolicy (
  doc: PolicyDocument, requests: readonly PolicyTestRequest[]
): { decisions: PolicyTestDecision[] } {
  const compiled = compilePolicy(doc, policyDigest(doc))
  return { decisions: requests.map(r => decideUnderPolicy(r, compiled)) }
}

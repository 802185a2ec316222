import type { CompiledPolicy } from './decide.js'
import type { Dag } from './dag.js'
import { requestPrincipal, type ExecRequestBody } from './exec.js'
import { publicKeyFromPeerId } from './peer-id.js'
import { toHex } from './bytes.js'
import type { CryptoProvider } from './crypto.js'
import { decideUnderPolicy, type PolicyTestDecision, type PolicyTestRequest } from './policy-test.js'

/** A recorded request's policy verdict: the first node on its path that refuses, else the executing node's. */
export interface PolicyReplayVerdict {
  allow: boolean
  reason: PolicyTestDecision['reason']
  rules: string[]
  /** The zone of the node whose decision this is. */
  zone: string
}

/** A recorded request whose verdict differs between the live and the proposed policy. */
export interface ReplayChange {
  /** CID of the `exec.request`. */
  cid: string
  time: number
  request: PolicyTestRequest
  before: PolicyReplayVerdict
  after: PolicyReplayVerdict
}

export interface ReplayResult {
  /** Requests re-decided (recorded at or after `since`, with a verifiable principal). */
  replayed: number
  changes: ReplayChange[]
}

/** Each node on a request's recorded path decides: the origin, then every peer of `path`. */
function decisionPoints (dag: Dag, id: string, body: ExecRequestBody, author: string): Array<string | null> {
  const gov = dag.governanceAt(id)
  const zoneOf = (key: string): string | null => gov.members.get(key)?.zone ?? null
  const path = (body.path ?? []).map(p => {
    try { return zoneOf(toHex(publicKeyFromPeerId(p))) } catch { return null }
  })
  return [zoneOf(author), ...path]
}

function verdictOf (
  base: Omit<PolicyTestRequest, 'zone' | 'fromZone'>, zones: Array<string | null>, policy: CompiledPolicy
):
{ verdict: PolicyReplayVerdict, request: PolicyTestRequest } {
  const hops = zones.length - 1
  let last: { verdict: PolicyReplayVerdict, request: PolicyTestRequest } | undefined
  for (let i = 0; i < zones.length; i++) {
    // A node that was no member had no zone; it decides as in `checkHop`, with the empty zone.
    const zone = zones[i] ?? ''
    const from = i === 0 ? undefined : zones[i - 1] ?? ''
    const request: PolicyTestRequest = { ...base, zone, ...(from !== undefined ? { fromZone: from } : {}) }
    const d = decideUnderPolicy(request, policy, hops)
    last = { verdict: { allow: d.allow, reason: d.reason, rules: d.rules, zone }, request }
    if (!d.allow) return last
  }
  return last!
}

/**
 * Re-decides every `exec.request` recorded in the DAG (at or after `since`, author's clock)
 * under the live and under the proposed policy, along the path each request recorded, and
 * lists those whose verdict (allow or refuse) changes. Only the policy is replayed: every
 * peer counts as trusted, so a change here is a change the policy alone makes.
 *
 * @example
 * ```ts
 * const { changes } = replayPolicy(dag, compiledLive, compilePolicy(proposed, policyDigest(proposed)), { since: 0 })
 * ```
 */
export function replayPolicy (
  dag: Dag, live: CompiledPolicy, proposed: CompiledPolicy, opts: { since?: number, crypto?: CryptoProvider } = {}
): ReplayResult {
  const since = opts.since ?? 0
  const changes: ReplayChange[] = []
  let replayed = 0
  for (const id of dag.ids()) {
    const meta = dag.meta(id)
    if (meta === undefined || meta.type !== 'exec.request' || meta.time < since) continue
    const body = dag.getEntry(id)!.entry.body as ExecRequestBody
    const principal = requestPrincipal(dag.meshId, body, opts.crypto)
    if (principal === undefined) continue
    replayed++
    const zones = decisionPoints(dag, id, body, meta.author)
    const base = { principal, action: body.action, resource: body.resource }
    const before = verdictOf(base, zones, live)
    const after = verdictOf(base, zones, proposed)
    if (before.verdict.allow !== after.verdict.allow) {
      changes.push({ cid: id, time: meta.time, request: after.request, before: before.verdict, after: after.verdict })
    }
  }
  return { replayed, changes }
}

/** Parses `--since` style input: unix ms, or an ISO date; undefined for no bound. */
export function parseSince (text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined
  if (/^\d+$/.test(text)) return Number(text)
  const t = Date.parse(text)
  return Number.isNaN(t) ? Number.NaN : t
}

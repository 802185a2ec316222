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

export interface ReplayOptions { since?: number, crypto?: CryptoProvider }

/**
 * Re-decides one accepted entry if it is an `exec.request` recorded at or after `since` (author's
 * clock) with a verifiable principal, under the live and under the proposed policy, along the path
 * the request recorded: `undefined` when it is not replayed, else the change of verdict (allow or
 * refuse), or null when the verdict stays. Only the policy is replayed: every peer counts as
 * trusted, so a change here is a change the policy alone makes.
 *
 * @example
 * ```ts
 * for await (const id of index.orderFrom(0)) { const r = replayRequest(dag, id, live, proposed); ... }
 * ```
 */
export function replayRequest (
  dag: Dag, id: string, live: CompiledPolicy, proposed: CompiledPolicy, opts: ReplayOptions = {}
): ReplayChange | null | undefined {
  const meta = dag.meta(id)
  if (meta === undefined || meta.type !== 'exec.request' || meta.time < (opts.since ?? 0)) return undefined
  const body = dag.getEntry(id)!.entry.body as ExecRequestBody
  const principal = requestPrincipal(dag.meshId, body, opts.crypto)
  if (principal === undefined) return undefined
  const zones = decisionPoints(dag, id, body, meta.author)
  const base = { principal, action: body.action, resource: body.resource }
  const before = verdictOf(base, zones, live)
  const after = verdictOf(base, zones, proposed)
  if (before.verdict.allow === after.verdict.allow) return null
  return { cid: id, time: meta.time, request: after.request, before: before.verdict, after: after.verdict }
}

/** Counts one {@link replayRequest} outcome into a result. */
export function addReplayed (result: ReplayResult, outcome: ReplayChange | null | undefined): void {
  if (outcome === undefined) return
  result.replayed++
  if (outcome !== null) result.changes.push(outcome)
}

/** Parses `--since` style input: unix ms, or an ISO date; undefined for no bound. */
export function parseSince (text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined
  if (/^\d+$/.test(text)) return Number(text)
  const t = Date.parse(text)
  return Number.isNaN(t) ? Number.NaN : t
}

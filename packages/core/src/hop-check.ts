import { fromHex } from './bytes.js'
import { decide, type CompiledPolicy, type Refusal, type TrustStatus } from './decide.js'
import type { ExecRequestBody, PolicyEvidence } from './exec.js'
import { peerIdFromPublicKey } from './peer-id.js'
import { MAX_ANCESTRY_CHECK } from './limits.js'

/** Where a hop reads a request's ancestry (a `Dag` is one). */
export interface AncestrySource {
  /** Breadth-first walk from `id` over accepted entries, `id` first, at most `limit` ids. */
  ancestry: (id: string, opts: { limit: number }) => Iterable<string>
  meta: (id: string) => { type: string, author: string } | undefined
  isRevoked: (id: string) => boolean
}

/** The hex keys of the `exec.*` authors in a request's ancestry, in walk order. */
export interface AncestryAuthors {
  authors: string[]
}

/**
 * Walks the first {@link MAX_ANCESTRY_CHECK} entries of the ancestry from a request's `parent`:
 * a revoked entry among them refuses the request (`ancestry.invalid`); otherwise the authors of
 * the `exec.*` entries met are returned, as their trust matters too. No parent: no authors.
 *
 * @example
 * ```ts
 * const scan = scanAncestry(dag, body.parent?.toString() ?? null)
 * if ('reason' in scan) refuse(scan)
 * ```
 */
export function scanAncestry (
  source: AncestrySource, parent: string | null, limit = MAX_ANCESTRY_CHECK
): AncestryAuthors | Refusal {
  const authors: string[] = []
  if (parent === null) return { authors }
  const seen = new Set<string>()
  for (const id of source.ancestry(parent, { limit })) {
    if (source.isRevoked(id)) return { reason: 'ancestry.invalid', detail: `ancestry entry ${id} is revoked` }
    const m = source.meta(id)
    if (m !== undefined && m.type.startsWith('exec.') && !seen.has(m.author)) {
      seen.add(m.author)
      authors.push(m.author)
    }
  }
  return { authors }
}

/**
 * The peers whose trust a hop requires: those left on the route (this node excluded), then the
 * authors of the forwarded lineage and of the ancestry's `exec.*` entries, each once, this node
 * excluded. Authors are hex keys; the answer is PeerIds.
 *
 * @example
 * ```ts
 * peersToTrust({ self: { peerId, key }, rest: ['12D3…c'], authors: [originKey] }) // ['12D3…c', '12D3…origin']
 * ```
 */
export function peersToTrust (input: {
  self: { peerId: string, key: string }, rest: readonly string[], authors: Iterable<string>
}): string[] {
  const keys = new Set(input.authors)
  keys.delete(input.self.key)
  return [...input.rest.filter(p => p !== input.self.peerId), ...[...keys].map(k => peerIdFromPublicKey(fromHex(k)))]
}

/** A forwarded request is accepted only from a trusted sender. */
export function senderRefusal (sender: { peerId: string, status: TrustStatus }): Refusal | undefined {
  if (sender.status === 'trusted') return undefined
  return { reason: `trust.${sender.status}`, detail: `forwarded by ${sender.peerId}, which is ${sender.status}` }
}

/**
 * When the request records its planned `path`, the receiver at position `hop` must be the path's
 * peer there and the frame's `rest` the remainder, so no forwarder can reroute it.
 */
export function pathRefusal (
  path: readonly string[] | undefined, self: string, hop: number, rest: readonly string[]
): Refusal | undefined {
  if (path === undefined) return undefined
  const here = path[hop - 1]
  const remainder = path.slice(hop)
  if (here === self && remainder.length === rest.length && remainder.every((p, i) => p === rest[i])) return undefined
  return { reason: 'ancestry.invalid', detail: `hop ${hop} does not follow the planned path of the request` }
}

/** The executing node needs an executor for the action; none configured is a policy refusal. */
export function executorRefusal (action: string, configured: boolean): Refusal | undefined {
  return configured ? undefined : { reason: 'policy.denied', detail: `no executor configured for action ${action}` }
}

/** Everything one node weighs before it runs or forwards an execution. */
export interface HopCheckInput {
  body: ExecRequestBody
  /** The request principal (`requestPrincipal`), undefined when the agent signature does not verify. */
  principal: string | undefined
  /** This node's position on the path: 0 at the origin. */
  hop: number
  /** The PeerIds after this node on the path. */
  rest: readonly string[]
  self: { peerId: string, key: string, zone: string | null, status: TrustStatus }
  /** The node that forwarded the request; absent at the origin. */
  sender?: { peerId: string, status: TrustStatus, zone: string | null }
  /** Hex keys of the authors of the forwarded lineage entries (at the origin, its own request). */
  lineageAuthors: readonly string[]
  /** {@link scanAncestry} of the request's parent. */
  ancestry: AncestryAuthors | Refusal
  policy: CompiledPolicy
  peerStatus: (peerId: string) => TrustStatus
}

/** What one hop's checks concluded, with the policy evidence a hop or refusal records. */
export interface HopVerdict {
  /** The refusal, or undefined when every check passed. */
  refusal?: Refusal
  /** The policy digest and deciding rule ids, when the policy decided (absent for earlier refusals). */
  policy?: PolicyEvidence
}

/**
 * The checks of one hop, in order: the request principal, the sender's trust, the planned path,
 * the ancestry, then `decide` (own status, every peer that must be trusted, hop limit, zone
 * transition from the sender's zone, rules). Pure. The verdict names the rules that decided,
 * so `exec.hop` and `exec.refuse` can record them beside the policy digest.
 *
 * @example
 * ```ts
 * const { refusal, policy } = checkHopVerdict({ body, principal, hop: 0, rest: path, self, lineageAuthors: [selfKey],
 *   ancestry: scanAncestry(dag, null), policy: compiled, peerStatus })
 * ```
 */
export function checkHopVerdict (input: HopCheckInput): HopVerdict {
  const { body, principal, self, sender } = input
  if (principal === undefined) return {
    refusal: { reason: 'ancestry.invalid', detail: 'the request signature does not verify' }
  }
  if (sender !== undefined) {
    const refused = senderRefusal(sender) ?? pathRefusal(body.path, self.peerId, input.hop, input.rest)
    if (refused !== undefined) return { refusal: refused }
  }
  if ('reason' in input.ancestry) return { refusal: input.ancestry }
  const peers = peersToTrust({ self, rest: input.rest, authors: [...input.lineageAuthors, ...input.ancestry.authors] })
  const decision = decide({
    principal,
    signed: body.agent !== null,
    action: body.action,
    resource: body.resource,
    zone: self.zone ?? '',
    fromZone: sender?.zone ?? undefined,
    hops: input.hop + input.rest.length,
    peers
  }, input.policy, { self: self.status, peer: input.peerStatus })
  const policy = { digest: decision.policyDigest, rules: decision.rules }
  if (decision.allow) return { policy }
  return {
    refusal: {
      reason: decision.reason!, detail: decision.reasons[0]?.detail ?? decision.reason!, rules: decision.rules
    },
    policy
  }
}

/**
 * {@link checkHopVerdict} reduced to its refusal: undefined when everything passes.
 *
 * @example
 * ```ts
 * const refusal = checkHop({ body, principal, hop: 0, rest: path, self, lineageAuthors: [selfKey],
 *   ancestry: scanAncestry(dag, null), policy, peerStatus })
 * ```
 */
export function checkHop (input: HopCheckInput): Refusal | undefined {
  return checkHopVerdict(input).refusal
}

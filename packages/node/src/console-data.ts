import {
  createPolicyState, type Dag, type EntryBody, type ExecHopBody, type PolicyDocument, type PolicyUpdateBody,
  type SignedEntry, type TrustFailBody, toHex
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { entryView, type EntryView } from './entry-view.js'

function genesisPolicyOf (dag: Dag): Uint8Array {
  return (dag.genesis.entry.body as EntryBody<'mesh.genesis'>).policy
}

/** One `policy.update` with the policy it produced (in acceptance order, applied cumulatively). */
export interface PolicyVersion {
  cid: string | null
  author: string | null
  time: number
  digest: string
  document: PolicyDocument
}

/**
 * The policy's history for the governance console: the genesis policy, then the document
 * after each `policy.update` in acceptance order (a causal order, so every node shows the
 * same sequence for the same DAG).
 */
export function policyHistory (dag: Dag): PolicyVersion[] {
  const state = createPolicyState({ updates: [genesisPolicyOf(dag)], crypto: nodeCrypto })
  const genesis = dag.meta(dag.meshIdString)
  const version = (cid: string | null, author: string | null, time: number): PolicyVersion =>
    ({ cid, author, time, digest: state.digest(), document: state.document() })
  const out = [version(null, null, genesis?.time ?? 0)]
  const updates = dag.entriesOfType('policy.update')
    .map(e => ({ e, index: dag.meta(e.id)?.index ?? 0 }))
    .sort((a, b) => a.index - b.index)
  for (const { e } of updates) {
    state.apply((e.entry.body as PolicyUpdateBody).update)
    out.push(version(e.id, toHex(e.entry.author), e.entry.time))
  }
  return out
}

/** An entry of an execution's lineage graph, with what each decision was judged against. */
export interface LineageNode extends EntryView {
  /**
   * `execution`: the request and its hops, refusals, results; `trust`: a trust change about a node
   * involved; `ancestry`: other past entries.
   */
  role: 'execution' | 'trust' | 'ancestry'
  /** The author's zone in the governance state of the entry's causal past. */
  zone: string | null
  /**
   * Digest of the policy in the entry's causal past (genesis policy plus the updates it descends from);
   * null for `ancestry` entries, which are context rather than decisions.
   */
  policyDigest: string | null
}

export interface LineageGraph {
  root: string
  request: string | null
  nodes: LineageNode[]
}

/** Request CID of an exec entry (itself for a request), or null for other types. */
function requestOf (e: SignedEntry): string | null {
  if (e.entry.type === 'exec.request') return e.id
  if (e.entry.type.startsWith('exec.')) return (e.entry.body as ExecHopBody).request.toString()
  return null
}

/**
 * Builds the graph the lineage explorer draws for an entry: the whole execution it belongs
 * to (request → hops → result or refusal, across nodes), the trust changes about the nodes
 * involved in its causal past, and optionally up to `ancestry` further past entries.
 */
export function lineageGraph (dag: Dag, rootId: string, ancestry = 0): LineageGraph | undefined {
  const root = dag.getEntry(rootId)
  if (root === undefined) return undefined
  const request = requestOf(root)
  const roles = new Map<string, LineageNode['role']>()
  if (request !== null) {
    for (const id of dag.ids()) {
      const m = dag.meta(id)!
      if (!m.type.startsWith('exec.')) continue
      const ofRequest = id === request || (m.type !== 'exec.request' && requestOf(dag.getEntry(id)!) === request)
      if (ofRequest) roles.set(id, 'execution')
    }
  }
  roles.set(rootId, roles.get(rootId) ?? 'execution')
  const chain = [...roles.keys()]
  const past = new Set(chain.flatMap(id => dag.ancestry(id)))
  const involved = new Set(chain.map(id => dag.meta(id)!.author))
  for (const type of ['trust.fail', 'trust.restore'] as const) {
    for (const e of dag.entriesOfType(type)) {
      if (past.has(e.id) && involved.has(toHex((e.entry.body as TrustFailBody).subject))) roles.set(e.id, 'trust')
    }
  }
  if (ancestry > 0) {
    for (const id of dag.ancestry(rootId, { limit: ancestry + 1 })) if (!roles.has(id)) roles.set(id, 'ancestry')
  }
  const digestOf = policyDigestAt(dag)
  const nodes = [...roles].map(([id, role]) => {
    const view = entryView(dag, id)!
    const zone = dag.governanceAt(id).members.get(view.author)?.zone ?? null
    return { ...view, role, zone, policyDigest: role === 'ancestry' ? null : digestOf(id) }
  }).sort((a, b) => dag.meta(a.cid)!.index - dag.meta(b.cid)!.index)
  return { root: rootId, request, nodes }
}

/** Policy digest in an entry's causal past, cached per set of policy updates it descends from. */
function policyDigestAt (dag: Dag): (id: string) => string {
  const genesisPolicy = genesisPolicyOf(dag)
  const updates = dag.entriesOfType('policy.update')
  const cache = new Map<string, string>()
  if (updates.length === 0) {
    const only = digestOfUpdates(genesisPolicy, [])
    return () => only
  }
  return (id) => {
    const past = new Set(dag.ancestry(id))
    const mine = updates.filter(u => past.has(u.id))
    const key = mine.map(u => u.id).join(',')
    let digest = cache.get(key)
    if (digest === undefined) {
      digest = digestOfUpdates(genesisPolicy, mine.map(u => (u.entry.body as PolicyUpdateBody).update))
      cache.set(key, digest)
    }
    return digest
  }
}

function digestOfUpdates (genesisPolicy: Uint8Array, updates: Uint8Array[]): string {
  return createPolicyState({ updates: [genesisPolicy, ...updates], crypto: nodeCrypto }).digest()
}

export interface LineageQuery {
  cid?: string
  author?: string
  type?: string
  since?: number
  until?: number
  limit: number
}

/** Entries matching every given filter (CID prefix, author key, type, time range), newest first. */
export function searchLineage (dag: Dag, q: LineageQuery): EntryView[] {
  const ids = dag.ids()
  const out: EntryView[] = []
  for (let i = ids.length - 1; i >= 0 && out.length < q.limit; i--) {
    const m = dag.meta(ids[i]!)!
    if (q.cid !== undefined && !m.id.startsWith(q.cid)) continue
    if (q.author !== undefined && m.author !== q.author) continue
    if (q.type !== undefined && m.type !== q.type) continue
    if (q.since !== undefined && m.time < q.since) continue
    if (q.until !== undefined && m.time > q.until) continue
    out.push(entryView(dag, m.id)!)
  }
  return out
}

/** CIDs of the entries that name `id` as prev or parent (one scan; asked per click, not per event). */
export function childrenOf (dag: Dag, id: string): string[] {
  const out: string[] = []
  for (const other of dag.ids()) {
    const m = dag.meta(other)!
    if (m.prev === id || m.parents.includes(id)) out.push(other)
  }
  return out
}

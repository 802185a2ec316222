import {
  createPolicyState, type Dag, type EntryBody, type ExecHopBody, type PolicyDocument, type PolicyUpdateBody,
  type SignedEntry, type TrustFailBody, toHex
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { entryView, type EntryView } from './entry-view.js'
import type { HistoryIndex } from './history-index.js'
import { inPastOf, logEntries, type LogQuery } from './history-queries.js'

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
 * The request and the hops, refusals and results recorded for it: each names the previous step
 * as a parent, so they are found through the children index from the request.
 */
async function executionOf (dag: Dag, index: HistoryIndex, request: string): Promise<string[]> {
  if (!dag.has(request)) return []
  const out = [request]
  const seen = new Set(out)
  for (let i = 0; i < out.length; i++) {
    for (const child of await index.children(out[i]!)) {
      if (seen.has(child)) continue
      seen.add(child)
      const m = dag.meta(child)
      if (m === undefined || !m.type.startsWith('exec.') || m.type === 'exec.request') continue
      if (requestOf(dag.getEntry(child)!) === request) out.push(child)
    }
  }
  return out
}

/**
 * Builds the graph the lineage explorer draws for an entry: the whole execution it belongs
 * to (request → hops → result or refusal, across nodes), the trust changes about the nodes
 * involved in its causal past, and optionally up to `ancestry` further past entries.
 */
export async function lineageGraph (
  dag: Dag, index: HistoryIndex, rootId: string, ancestry = 0
): Promise<LineageGraph | undefined> {
  const root = dag.getEntry(rootId)
  if (root === undefined) return undefined
  const request = requestOf(root)
  const roles = new Map<string, LineageNode['role']>()
  if (request !== null) for (const id of await executionOf(dag, index, request)) roles.set(id, 'execution')
  roles.set(rootId, roles.get(rootId) ?? 'execution')
  const chain = [...roles.keys()]
  const involved = new Set(chain.map(id => dag.meta(id)!.author))
  const trustChanges = [...dag.entriesOfType('trust.fail'), ...dag.entriesOfType('trust.restore')]
    .filter(e => involved.has(toHex((e.entry.body as TrustFailBody).subject)))
  const past = inPastOf(dag, trustChanges.map(e => e.id), chain)
  for (const e of trustChanges) if (past.has(e.id)) roles.set(e.id, 'trust')
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
    const past = inPastOf(dag, updates.map(u => u.id), [id])
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

export type LineageQuery = LogQuery

/** Entries matching every given filter (CID prefix, author key, type, time range), newest first. */
export async function searchLineage (dag: Dag, index: HistoryIndex, q: LineageQuery): Promise<EntryView[]> {
  return logEntries(dag, index, q)
}

/** CIDs of the entries that name `id` as prev or parent, in acceptance order (from the children index). */
export async function childrenOf (dag: Dag, index: HistoryIndex, id: string): Promise<string[]> {
  const ids = await index.children(id)
  return ids.sort((a, b) => (dag.meta(a)?.index ?? 0) - (dag.meta(b)?.index ?? 0))
}

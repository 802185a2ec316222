import type { FastifyInstance } from 'fastify'
import { API_DEFAULT_PAGE } from '../../constants.js'
import { childrenOf, lineageGraph, policyHistory, searchLineage } from '../../console-data.js'
import { keyOfPeer } from '../../peers.js'
import { noEntry, type ApiContext, type RouteDeps } from '../context.js'
import { CidPatternParams, LineageGraphQuery, LineageSearchQuery } from '../schemas.js'

/** Counter values by label set, from the node's Prometheus registry (what `/metrics` prints). */
interface CounterValue { labels: Record<string, string | number>, value: number }

async function counters (node: ApiContext, name: string): Promise<CounterValue[]> {
  const metric = node.metrics.registry.getSingleMetric(name)
  if (metric === undefined) return []
  const { values } = await metric.get()
  return values.map(v => ({ labels: { ...v.labels } as Record<string, string | number>, value: v.value }))
}

interface SearchQuery { cid?: string, author?: string, type?: string, since?: number, until?: number, limit?: number }

/**
 * Read-only routes the web console needs beyond the original API: the members' health in
 * one answer, the counters as JSON, the policy's history, and lineage search and graphs.
 * Every route is a GET without a token (reads are public on the API, as `/v1/dag/*` are).
 */
export function consoleRoutes (app: FastifyInstance, { ctx: node }: RouteDeps): void {
  app.get('/v1/mesh/members', async () => {
    const now = Date.now()
    const gov = node.dag.currentGovernance()
    const policy = node.policy.document()
    const ownDigest = node.policy.digest()
    const connected = new Set(node.network.connectedPeers())
    const members = node.trust.all().map(t => {
      const self = t.key === node.publicKey
      const rec = node.peers.get(t.key)
      const measurement = self ? node.measurement : rec?.measurement ?? null
      const digest = self ? ownDigest : rec?.policyDigest ?? null
      const entries = self ? node.dag.size : rec?.entries ?? null
      return {
        ...t,
        self,
        member: gov.members.has(t.key),
        governor: gov.governors.has(t.key),
        connected: self || connected.has(t.peerId),
        lastHeartbeat: self ? now : rec?.lastSeen ?? null,
        heartbeatAgeMs: self ? 0 : rec?.lastSeen != null ? now - rec.lastSeen : null,
        policyDigest: digest,
        policyMatches: digest === null ? null : digest === ownDigest,
        measurement,
        measurementAllowed: measurement === null
          ? null
          : policy.measurements.length === 0 || policy.measurements.includes(measurement),
        entries,
        lag: entries === null ? null : Math.max(0, node.dag.size - entries)
      }
    })
    return { now, self: node.peerId, meshName: gov.meshName, policyDigest: ownDigest, entries: node.dag.size, members }
  })

  app.get('/v1/mesh/counters', async () => ({
    entries: node.dag.size,
    pending: node.dag.pendingCount,
    accepted: await counters(node, 'govmesh_entries_accepted_total'),
    rejections: await counters(node, 'govmesh_rejections_total'),
    syncSessions: await counters(node, 'govmesh_sync_sessions_total'),
    syncEntries: await counters(node, 'govmesh_sync_entries_total'),
    gossip: await counters(node, 'govmesh_gossip_messages_total')
  }))

  app.get('/v1/policy/history', async () => ({ versions: policyHistory(node.dag) }))

  app.get<{ Querystring: SearchQuery }>('/v1/lineage/search', {
    schema: { querystring: LineageSearchQuery }
  }, async (req) => {
    const q = req.query
    const author = q.author?.startsWith('12D3KooW') === true ? keyOfPeer(q.author) ?? q.author : q.author
    const query = {
      cid: q.cid, author, type: q.type, since: q.since, until: q.until, limit: q.limit ?? API_DEFAULT_PAGE
    }
    return { entries: await searchLineage(node.dag, node.historyIndex, query) }
  })

  app.get<{ Params: { cid: string }, Querystring: { ancestry?: number } }>('/v1/lineage/graph/:cid', {
    schema: { params: CidPatternParams, querystring: LineageGraphQuery }
  }, async (req, reply) => {
    const graph = await lineageGraph(node.dag, node.historyIndex, req.params.cid, req.query.ancestry ?? 0)
    if (graph === undefined) return noEntry(reply, req.params.cid)
    return graph
  })

  app.get<{ Params: { cid: string } }>('/v1/lineage/children/:cid', {
    schema: { params: CidPatternParams }
  }, async (req, reply) => {
    if (!node.dag.has(req.params.cid)) return noEntry(reply, req.params.cid)
    return { children: await childrenOf(node.dag, node.historyIndex, req.params.cid) }
  })
}

import type { FastifyInstance } from 'fastify'
import { CID, nextPosition } from '@govmesh/core'
import { API_DEFAULT_ANCESTRY, API_DEFAULT_PAGE } from '../../constants.js'
import { entryView, isRevokedEntry, viewOfEntry } from '../../entry-view.js'
import { logEntries } from '../../history-queries.js'
import { ancestryEntries, proofCar } from '../../history-reads.js'
import { keyOfPeer } from '../../peers.js'
import { noEntry, sendError, type RouteDeps } from '../context.js'
import { AncestryQuery, CidParams, DagLogQuery, EntryFormatQuery, NextPositionQuery } from '../schemas.js'

export const RAW_CBOR = 'application/vnd.ipld.dag-cbor'

/** Reads of the lineage DAG: entries, heads, log, ancestry, proof export, and the next position to sign at. */
export function dagRoutes (app: FastifyInstance, { ctx }: RouteDeps): void {
  const { dag } = ctx

  app.get<{ Params: { cid: string } }>('/v1/dag/export/:cid', async (req, reply) => {
    const { cid } = req.params
    if (!dag.has(cid)) return noEntry(reply, cid)
    const car = await proofCar(dag, ctx.historyIndex, cid)
    return reply.type('application/vnd.ipld.car').send(Buffer.from(car.buffer, car.byteOffset, car.byteLength))
  })

  app.get('/v1/dag/heads', async () => ({ heads: dag.heads(), frontier: dag.frontier() }))

  app.get<{ Params: { cid: string }, Querystring: { format?: 'json' | 'raw' } }>('/v1/dag/entries/:cid', {
    schema: { params: CidParams, querystring: EntryFormatQuery }
  }, async (req, reply) => {
    const { cid } = req.params
    const raw = req.query.format === 'raw' || (req.headers.accept ?? '').includes(RAW_CBOR)
    if (raw) {
      const bytes = dag.getBytes(cid)
      if (bytes === undefined) return noEntry(reply, cid)
      return reply.type(RAW_CBOR).send(Buffer.from(bytes))
    }
    return entryView(dag, cid) ?? noEntry(reply, cid)
  })

  app.get<{ Querystring: { author?: string, type?: string, limit?: number } }>('/v1/dag/log', {
    schema: { querystring: DagLogQuery }
  }, async (req) => {
    const limit = req.query.limit ?? API_DEFAULT_PAGE
    let author = req.query.author
    if (author?.startsWith('12D3KooW') === true) author = keyOfPeer(author) ?? author
    return { entries: await logEntries(dag, ctx.historyIndex, { author, type: req.query.type, limit }) }
  })

  app.get<{ Params: { cid: string }, Querystring: { depth?: number, limit?: number } }>('/v1/dag/ancestry/:cid', {
    schema: { querystring: AncestryQuery }
  }, async (req, reply) => {
    if (!dag.has(req.params.cid)) return noEntry(reply, req.params.cid)
    const entries = await ancestryEntries(dag, ctx.historyIndex, req.params.cid, {
      depth: req.query.depth, limit: req.query.limit ?? API_DEFAULT_ANCESTRY
    })
    return { entries: entries.map(e => viewOfEntry(e, isRevokedEntry(dag, e))) }
  })

  app.get<{ Querystring: { author: string, parents?: string } }>('/v1/dag/next', {
    schema: { querystring: NextPositionQuery }
  }, async (req, reply) => {
    let extra: CID[] = []
    try {
      extra = (req.query.parents ?? '').split(',').filter(s => s.length > 0).map(s => CID.parse(s))
    } catch {
      return sendError(reply, 400, 'invalid-request', 'querystring/parents must be comma-separated CIDs')
    }
    const pos = nextPosition(dag, req.query.author, extra)
    return {
      mesh: pos.mesh.toString(), seq: pos.seq, prev: pos.prev?.toString() ?? null,
      parents: pos.parents.map(p => p.toString())
    }
  })
}

import { randomBytes, timingSafeEqual } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { CID, fromBase64, nextPosition } from '@govmesh/core'
import { entryView, toJsonValue } from './entry-view.js'
import { keyOfPeer } from './peers.js'
import { registerExecRoutes } from './api-exec.js'
import { exportProofCar } from './proof-car.js'
import { registerConsoleApi } from './api-console.js'
import { registerConsoleStatic } from './console-static.js'
import { DEFAULT_HTTP_TIMEOUTS, limitedServerFactory, type HttpTimeouts } from './http-timeouts.js'
import type { GovmeshNode, IngestOutcome } from './node.js'

export interface ApiInit {
  node: GovmeshNode
  host: string
  port: number
  /** Bearer token for mutating calls; generated when absent. */
  token?: string
  /** Connection limits against slow clients (default DEFAULT_HTTP_TIMEOUTS). */
  timeouts?: HttpTimeouts
}

export interface ApiServer {
  url: string
  token: string
  app: FastifyInstance
  close: () => Promise<void>
}

const RAW_CBOR = 'application/vnd.ipld.dag-cbor'
const SSE_EVENTS = ['entry:added', 'entry:rejected', 'peer:connect', 'peer:disconnect', 'policy:changed', 'trust:changed', 'exec:refused', 'heartbeat:received'] as const

function statusFor (outcomes: IngestOutcome[]): number {
  if (outcomes.some(o => o.status === 'rejected')) return 422
  if (outcomes.some(o => o.status === 'pending')) return 202
  return 200
}

/**
 * Starts the HTTP API (Fastify): JSON, versioned `/v1` paths, JSON-schema
 * validated input (unknown fields rejected), a bearer token on every mutating
 * call, server-sent events and Prometheus `/metrics`.
 *
 * @example
 * ```ts
 * const api = await startApi({ node, host: '127.0.0.1', port: 7700 })
 * console.log(api.url, api.token)
 * ```
 */
export async function startApi (init: ApiInit): Promise<ApiServer> {
  const { node } = init
  const token = init.token ?? randomBytes(24).toString('hex')
  const tokenBytes = Buffer.from(token)
  const timeouts = init.timeouts ?? DEFAULT_HTTP_TIMEOUTS
  const app = Fastify({
    logger: false,
    serverFactory: limitedServerFactory(timeouts),
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } }
  })
  app.addContentTypeParser(RAW_CBOR, { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown'
    node.metrics.apiRequests.inc({ route, status: String(reply.statusCode) })
    if (reply.statusCode >= 400 && reply.statusCode < 500) {
      node.metrics.reject(`api.${reply.statusCode}`, 'api')
    }
  })
  app.setErrorHandler((err: { statusCode?: number, message: string, code?: string, validation?: unknown }, _req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500) node.log.error('api error', { error: err.message })
    void reply.code(status).send({ error: err.validation !== undefined ? 'invalid-request' : (err.code ?? 'error'), message: err.message })
  })
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: 'not-found', message: `no route ${req.method} ${req.url}` })
  })

  const requireToken = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? Buffer.from(header.slice(7)) : undefined
    if (given === undefined || given.length !== tokenBytes.length || !timingSafeEqual(given, tokenBytes)) {
      await reply.code(401).send({ error: 'unauthorized', message: 'a valid bearer token is required (Authorization: Bearer <token>)' })
    }
  }

  app.get('/v1/status', async () => node.status())

  app.get('/v1/peers', async () => {
    const connected = node.libp2p.getPeers().map(p => p.toString())
    const gov = node.dag.currentGovernance()
    const records = new Map([...node.peerRecords.values()].map(r => [r.peerId, r]))
    const peers = [...new Set([...connected, ...records.keys()])].sort()
    return {
      peers: peers.map(peerId => {
        const rec = records.get(peerId)
        const key = rec?.key
        return {
          peerId,
          connected: connected.includes(peerId),
          member: node.isMemberPeer(peerId),
          zone: key !== undefined ? gov.members.get(key)?.zone ?? null : null,
          addrs: node.libp2p.getConnections().filter(c => c.remotePeer.toString() === peerId).map(c => c.remoteAddr.toString()),
          lastHeartbeat: rec?.lastSeen ?? null,
          policyDigest: rec?.policyDigest ?? null,
          measurement: rec?.measurement ?? null,
          entries: rec?.entries ?? null
        }
      })
    }
  })

  app.get('/v1/governance', async () => {
    const gov = node.dag.currentGovernance()
    return {
      meshId: node.meshId,
      name: gov.meshName,
      governors: [...gov.governors].sort(),
      members: [...gov.members.values()].map(m => ({ ...m })),
      removed: Object.fromEntries(gov.removed),
      quorums: gov.quorums
    }
  })

  app.get<{ Params: { cid: string } }>('/v1/dag/export/:cid', async (req, reply) => {
    if (!node.dag.has(req.params.cid)) return reply.code(404).send({ error: 'not-found', message: `no entry ${req.params.cid}` })
    return reply.type('application/vnd.ipld.car').send(Buffer.from(exportProofCar(node.dag, req.params.cid)))
  })

  app.get('/v1/dag/heads', async () => ({ heads: node.dag.heads(), frontier: node.dag.frontier() }))

  app.get<{ Params: { cid: string }, Querystring: { format?: 'json' | 'raw' } }>('/v1/dag/entries/:cid', {
    schema: {
      params: { type: 'object', properties: { cid: { type: 'string', minLength: 1, maxLength: 128 } }, required: ['cid'] },
      querystring: { type: 'object', properties: { format: { type: 'string', enum: ['json', 'raw'] } }, additionalProperties: false }
    }
  }, async (req, reply) => {
    const { cid } = req.params
    const raw = req.query.format === 'raw' || (req.headers.accept ?? '').includes(RAW_CBOR)
    if (raw) {
      const bytes = node.dag.getBytes(cid)
      if (bytes === undefined) return reply.code(404).send({ error: 'not-found', message: `no entry ${cid}` })
      return reply.type(RAW_CBOR).send(Buffer.from(bytes))
    }
    const view = entryView(node.dag, cid)
    if (view === undefined) return reply.code(404).send({ error: 'not-found', message: `no entry ${cid}` })
    return view
  })

  app.get<{ Querystring: { author?: string, type?: string, limit?: number } }>('/v1/dag/log', {
    schema: {
      querystring: {
        type: 'object',
        properties: {
          author: { type: 'string', pattern: '^[0-9a-f]{64}$|^12D3KooW[1-9A-HJ-NP-Za-km-z]+$' },
          type: { type: 'string', maxLength: 64 },
          limit: { type: 'integer', minimum: 1, maximum: 10000 }
        },
        additionalProperties: false
      }
    }
  }, async (req) => {
    const limit = req.query.limit ?? 100
    let author = req.query.author
    if (author?.startsWith('12D3KooW') === true) author = keyOfPeer(author) ?? author
    const ids = node.dag.ids()
    const out = []
    for (let i = ids.length - 1; i >= 0 && out.length < limit; i--) {
      const meta = node.dag.meta(ids[i]!)!
      if (author !== undefined && meta.author !== author) continue
      if (req.query.type !== undefined && meta.type !== req.query.type) continue
      out.push(entryView(node.dag, meta.id))
    }
    return { entries: out }
  })

  app.get<{ Params: { cid: string }, Querystring: { depth?: number, limit?: number } }>('/v1/dag/ancestry/:cid', {
    schema: {
      querystring: {
        type: 'object',
        properties: { depth: { type: 'integer', minimum: 0, maximum: 100000 }, limit: { type: 'integer', minimum: 1, maximum: 100000 } },
        additionalProperties: false
      }
    }
  }, async (req, reply) => {
    if (!node.dag.has(req.params.cid)) return reply.code(404).send({ error: 'not-found', message: `no entry ${req.params.cid}` })
    const ids = node.dag.ancestry(req.params.cid, { depth: req.query.depth, limit: req.query.limit ?? 10000 })
    return { entries: ids.map(id => entryView(node.dag, id)) }
  })

  app.get<{ Querystring: { author: string, parents?: string } }>('/v1/dag/next', {
    schema: {
      querystring: {
        type: 'object',
        properties: { author: { type: 'string', pattern: '^[0-9a-f]{64}$' }, parents: { type: 'string', maxLength: 8192 } },
        required: ['author'],
        additionalProperties: false
      }
    }
  }, async (req, reply) => {
    let extra: CID[] = []
    try {
      extra = (req.query.parents ?? '').split(',').filter(s => s.length > 0).map(s => CID.parse(s))
    } catch {
      return reply.code(400).send({ error: 'invalid-request', message: 'querystring/parents must be comma-separated CIDs' })
    }
    const pos = nextPosition(node.dag, req.query.author, extra)
    return { mesh: pos.mesh.toString(), seq: pos.seq, prev: pos.prev?.toString() ?? null, parents: pos.parents.map(p => p.toString()) }
  })

  // Validated by hand: the body is either JSON or raw dag-cbor bytes.
  app.post<{ Body: unknown }>('/v1/entries', { preHandler: requireToken }, async (req, reply) => {
    const bad = (message: string): FastifyReply => reply.code(400).send({ error: 'invalid-request', message })
    let items: Uint8Array[]
    if (Buffer.isBuffer(req.body)) {
      items = [new Uint8Array(req.body)]
    } else {
      const body = req.body
      if (body === null || typeof body !== 'object' || Array.isArray(body)) return bad('body must be a JSON object or raw dag-cbor')
      const unknown = Object.keys(body).find(k => k !== 'entry' && k !== 'entries')
      if (unknown !== undefined) return bad(`body/${unknown} is not a known field (expected "entry" or "entries")`)
      const { entry, entries } = body as { entry?: unknown, entries?: unknown }
      let list: unknown[]
      if (entry !== undefined && entries !== undefined) return bad('body must have "entry" or "entries", not both')
      if (entry !== undefined) list = [entry]
      else if (Array.isArray(entries) && entries.length > 0 && entries.length <= 100) list = entries
      else return bad('body must have "entry" (base64 string) or "entries" (array of 1..100 base64 strings)')
      items = []
      for (const [i, s] of list.entries()) {
        const field = entry !== undefined ? 'body/entry' : `body/entries/${i}`
        if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return bad(`${field} must be a base64 string`)
        try {
          items.push(fromBase64(s))
        } catch {
          return bad(`${field} must be a base64 string`)
        }
      }
    }
    const outcomes = await node.ingest(items, 'api', { publish: true, sync: node.fsync })
    return reply.code(statusFor(outcomes)).send({ results: outcomes })
  })

  registerExecRoutes(app, node, requireToken)

  app.get('/v1/policy', async () => ({
    digest: node.policy.digest(),
    hasPolicy: node.policy.hasPolicy,
    document: node.policy.document(),
    state: Buffer.from(node.policy.encodeState()).toString('base64')
  }))

  app.post<{ Body: { multiaddr: string } }>('/v1/join', {
    preHandler: requireToken,
    schema: {
      body: { type: 'object', properties: { multiaddr: { type: 'string', minLength: 1, maxLength: 1024 } }, required: ['multiaddr'], additionalProperties: false }
    }
  }, async (req, reply) => {
    try {
      const peerId = await node.dial(req.body.multiaddr)
      return { ok: true, peerId }
    } catch (err) {
      return reply.code(502).send({ error: 'dial-failed', message: (err as Error).message })
    }
  })

  app.post<{ Body: { peers: string[] } }>('/v1/admin/block', {
    preHandler: requireToken,
    schema: {
      body: { type: 'object', properties: { peers: { type: 'array', items: { type: 'string', maxLength: 128 }, maxItems: 1024 } }, required: ['peers'], additionalProperties: false }
    }
  }, async (req) => {
    await node.setBlocked(req.body.peers)
    return { blocked: node.blockedPeers() }
  })

  app.get('/v1/events', (req, reply) => {
    // Events are small and latency matters more than packet count.
    reply.raw.socket?.setNoDelay(true)
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
    reply.raw.write(': govmesh events\n\n')
    const listeners = SSE_EVENTS.map(name => {
      const fn = (data: unknown): void => { reply.raw.write(`event: ${name}\ndata: ${JSON.stringify(toJsonValue(data))}\n\n`) }
      node.on(name, fn)
      return [name, fn] as const
    })
    const keepAlive = setInterval(() => { reply.raw.write(': keep-alive\n\n') }, 15_000)
    req.raw.on('close', () => {
      clearInterval(keepAlive)
      for (const [name, fn] of listeners) node.off(name, fn)
    })
  })

  app.get('/metrics', async (_req, reply) => {
    return reply.type(node.metrics.registry.contentType).send(await node.metrics.registry.metrics())
  })

  registerConsoleApi(app, node)
  registerConsoleStatic(app)

  await app.listen({ host: init.host, port: init.port })
  const addr = app.server.address()
  const port = typeof addr === 'object' && addr !== null ? addr.port : init.port
  const url = `http://${init.host.includes(':') ? `[${init.host}]` : init.host}:${port}`
  return { url, token, app, close: async () => { await app.close() } }
}

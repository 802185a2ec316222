import { randomBytes, timingSafeEqual } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { API_BODY_LIMIT_BYTES } from '../constants.js'
import { registerConsoleStatic } from '../console-static.js'
import { DEFAULT_HTTP_TIMEOUTS, limitedServerFactory, type HttpTimeouts } from '../http-timeouts.js'
import type { Startable } from '../services/startable.js'
import { sendError, type ApiContext, type RouteDeps, type TokenGuard } from './context.js'
import { adminRoutes } from './routes/admin.js'
import { consoleRoutes } from './routes/console.js'
import { dagRoutes, RAW_CBOR } from './routes/dag.js'
import { entryRoutes } from './routes/entries.js'
import { eventRoutes } from './routes/events.js'
import { execRoutes } from './routes/exec.js'
import { policyRoutes } from './routes/policy.js'
import { statusRoutes } from './routes/status.js'
import { trustRoutes } from './routes/trust.js'
import { policyDryRunRoutes } from './routes/policy-dryrun.js'
import { governanceApprovalRoutes } from './routes/governance-approvals.js'

export interface ApiInit {
  /** What the routes serve (a started {@link GovmeshNode} provides it). */
  node: ApiContext
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

/** Every route module, in registration order (docs/ARCHITECTURE.md lists them). */
const ROUTES: Array<(app: FastifyInstance, deps: RouteDeps) => void> = [
  statusRoutes, dagRoutes, entryRoutes, execRoutes, trustRoutes, policyRoutes, policyDryRunRoutes,
  governanceApprovalRoutes, adminRoutes, eventRoutes,
  consoleRoutes
]

function tokenGuard (token: string): TokenGuard {
  const expected = Buffer.from(token)
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? Buffer.from(header.slice(7)) : undefined
    if (given === undefined || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      await sendError(reply, 401, 'unauthorized', 'a valid bearer token is required (Authorization: Bearer <token>)')
    }
  }
}

/** Counting, one error shape (`{ error, message }`) and 404s for every route. */
function installHandlers (app: FastifyInstance, ctx: ApiContext): void {
  app.addContentTypeParser(RAW_CBOR, { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown'
    ctx.metrics.apiRequests.inc({ route, status: String(reply.statusCode) })
    if (reply.statusCode >= 400 && reply.statusCode < 500) ctx.metrics.reject(`api.${reply.statusCode}`, 'api')
  })
  app.setErrorHandler((
    err: { statusCode?: number, message: string, code?: string, validation?: unknown }, _req, reply
  ) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500) ctx.log.error('api error', { error: err.message })
    void sendError(reply, status, err.validation !== undefined ? 'invalid-request' : (err.code ?? 'error'), err.message)
  })
  app.setNotFoundHandler((req, reply) => {
    void sendError(reply, 404, 'not-found', `no route ${req.method} ${req.url}`)
  })
}

/** Options of the API service: where it listens, its token and connection limits. */
export type ApiServiceInit = Omit<ApiInit, 'node'>

/**
 * The HTTP API as a service (Fastify): JSON, versioned `/v1` paths, JSON-schema validated input
 * (unknown fields rejected), a bearer token on every mutating call, server-sent events and
 * Prometheus `/metrics`. Its one component is the narrow {@link ApiContext}; `start()` listens,
 * `stop()` closes.
 *
 * @example
 * ```ts
 * const api = apiService({ host: '127.0.0.1', port: 7700 })(node)
 * await api.start()
 * console.log(api.url, api.token)
 * ```
 */
export class ApiService implements Startable {
  readonly token: string
  readonly app: FastifyInstance
  url = ''

  constructor (private readonly init: ApiServiceInit, ctx: ApiContext) {
    this.token = init.token ?? randomBytes(24).toString('hex')
    const timeouts = init.timeouts ?? DEFAULT_HTTP_TIMEOUTS
    this.app = Fastify({
      logger: false,
      serverFactory: limitedServerFactory(timeouts),
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      bodyLimit: API_BODY_LIMIT_BYTES,
      ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } }
    })
    installHandlers(this.app, ctx)
    const deps: RouteDeps = { ctx, requireToken: tokenGuard(this.token) }
    for (const register of ROUTES) register(this.app, deps)
    registerConsoleStatic(this.app)
  }

  async start (): Promise<void> {
    const { host } = this.init
    await this.app.listen({ host, port: this.init.port })
    const addr = this.app.server.address()
    const port = typeof addr === 'object' && addr !== null ? addr.port : this.init.port
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  }

  async stop (): Promise<void> {
    await this.app.close()
  }
}

/**
 * Creates the API service (js-libp2p style: init, then components).
 *
 * @example
 * ```ts
 * const api = apiService({ host: '127.0.0.1', port: 0 })(node)
 * ```
 */
export function apiService (init: ApiServiceInit): (ctx: ApiContext) => ApiService {
  return (ctx) => new ApiService(init, ctx)
}

/**
 * Creates and starts the API ({@link ApiService}) for a node.
 *
 * @example
 * ```ts
 * const api = await startApi({ node, host: '127.0.0.1', port: 7700 })
 * console.log(api.url, api.token)
 * ```
 */
export async function startApi (init: ApiInit): Promise<ApiServer> {
  const { node, ...rest } = init
  const api = apiService(rest)(node)
  await api.start()
  return { url: api.url, token: api.token, app: api.app, close: async () => { await api.stop() } }
}

import type { FastifyInstance } from 'fastify'
import { SSE_KEEPALIVE_MS } from '../../constants.js'
import { toJsonValue } from '../../entry-view.js'
import { NODE_EVENTS } from '../../events.js'
import type { RouteDeps } from '../context.js'

/** `GET /v1/events` (every node event as server-sent events) and `GET /metrics` (Prometheus). */
export function eventRoutes (app: FastifyInstance, { ctx }: RouteDeps): void {
  app.get('/v1/events', (req, reply) => {
    // Events are small and latency matters more than packet count.
    reply.raw.socket?.setNoDelay(true)
    reply.raw.writeHead(
      200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' }
    )
    reply.raw.write(': govmesh events\n\n')
    const listeners = NODE_EVENTS.map(name => {
      const fn = (data: unknown): void => {
        reply.raw.write(`event: ${name}\ndata: ${JSON.stringify(toJsonValue(data))}\n\n`)
      }
      ctx.events.on(name, fn)
      return [name, fn] as const
    })
    const keepAlive = setInterval(() => { reply.raw.write(': keep-alive\n\n') }, SSE_KEEPALIVE_MS)
    req.raw.on('close', () => {
      clearInterval(keepAlive)
      for (const [name, fn] of listeners) ctx.events.off(name, fn)
    })
  })

  app.get('/metrics', async (_req, reply) => {
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics())
  })
}

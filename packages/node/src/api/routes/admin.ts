import type { FastifyInstance } from 'fastify'
import { sendError, type RouteDeps } from '../context.js'
import { BlockBody, JoinBody } from '../schemas.js'

/** `POST /v1/join` (dial a bootstrap address) and `POST /v1/admin/block` (the operator's block list). */
export function adminRoutes (app: FastifyInstance, { ctx, requireToken }: RouteDeps): void {
  app.post<{ Body: { multiaddr: string } }>('/v1/join', {
    preHandler: requireToken, schema: { body: JoinBody }
  }, async (req, reply) => {
    try {
      const peerId = await ctx.connections.join(req.body.multiaddr)
      return { ok: true, peerId }
    } catch (err) {
      return sendError(reply, 502, 'dial-failed', (err as Error).message)
    }
  })

  app.post<{ Body: { peers: string[] } }>('/v1/admin/block', {
    preHandler: requireToken, schema: { body: BlockBody }
  }, async (req) => ({ blocked: await ctx.connections.setBlocked(req.body.peers) }))
}

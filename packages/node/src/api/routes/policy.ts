import type { FastifyInstance } from 'fastify'
import type { RouteDeps } from '../context.js'

/** `GET /v1/policy`: the live policy, its digest and the Yjs state. */
export function policyRoutes (app: FastifyInstance, { ctx }: RouteDeps): void {
  app.get('/v1/policy', async () => ({
    digest: ctx.policy.digest(),
    hasPolicy: ctx.policy.hasPolicy,
    document: ctx.policy.document(),
    state: Buffer.from(ctx.policy.encodeState()).toString('base64')
  }))
}

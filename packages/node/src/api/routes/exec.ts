import type { FastifyInstance } from 'fastify'
import { GovmeshError, InputRejectedError } from '@govmesh/core'
import { ExecInputError } from '../../errors.js'
import type { ExecSubmit } from '../../services/exec.js'
import { sendError, type RouteDeps } from '../context.js'
import { ExecBody } from '../schemas.js'

/** Entry errors raised before signing: the request could never become an entry peers accept. */
const UNSIGNABLE: Record<string, number> = {
  'entry.too-large': 413, 'entry.malformed': 400, 'entry.non-canonical': 400
}

/** `POST /v1/exec`: a governed execution from this node (the origin). */
export function execRoutes (app: FastifyInstance, { ctx, requireToken }: RouteDeps): void {
  app.post<{ Body: ExecSubmit }>('/v1/exec', {
    preHandler: requireToken, schema: { body: ExecBody }
  }, async (req, reply) => {
    try {
      return await ctx.exec.submit(req.body)
    } catch (err) {
      if (err instanceof ExecInputError) return sendError(reply, 400, 'invalid-request', err.message)
      if (err instanceof InputRejectedError) {
        return sendError(reply, 400, 'invalid-request', err.message, { field: err.field, rule: err.rule })
      }
      const unsignable = err instanceof GovmeshError ? UNSIGNABLE[err.code] : undefined
      if (err instanceof GovmeshError && unsignable !== undefined) {
        return sendError(reply, unsignable, 'invalid-request', err.message, { code: err.code })
      }
      if (err instanceof GovmeshError) return sendError(reply, 422, err.code, err.message)
      throw err
    }
  })
}

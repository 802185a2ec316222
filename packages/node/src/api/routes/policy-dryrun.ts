import type { FastifyInstance, FastifyReply } from 'fastify'
import {
  compilePolicy, diffPolicy, GovmeshError, parsePolicyDocument, parsePolicyTestRequest, policyDigest, addReplayed,
  replayRequest, type ReplayResult,
  testPolicy, type PolicyDocument
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { sendError, type RouteDeps } from '../context.js'

/** Most requests one `POST /v1/policy/test` decides. */
export const MAX_POLICY_TEST_REQUESTS = 1000

const POLICY_BODY = { type: 'object' }

/**
 * Policy dry runs, read-only: `POST /v1/policy/test` (decisions of a proposed policy with the
 * rules that decided), `POST /v1/policy/diff` (rule by rule against the live policy) and
 * `POST /v1/policy/replay` (recorded requests whose verdict the proposed policy changes).
 *
 * Reads the DAG (the recorded requests) and the live policy; writes nothing.
 */
export function policyDryRunRoutes (app: FastifyInstance, { ctx, requireToken }: RouteDeps): void {
  const deps = { dag: ctx.dag, history: ctx.historyIndex, policy: ctx.policy, crypto: nodeCrypto, requireToken }
  const bad = (reply: FastifyReply, err: unknown): FastifyReply => {
    if (!(err instanceof GovmeshError)) throw err
    return sendError(reply, 400, 'invalid-request', err.message, { code: err.code })
  }
  const digests = (proposed: PolicyDocument): { liveDigest: string, proposedDigest: string } =>
    ({ liveDigest: deps.policy.digest(), proposedDigest: policyDigest(proposed, deps.crypto) })

  app.post<{ Body: { policy: unknown, requests: unknown[] } }>('/v1/policy/test', {
    preHandler: deps.requireToken,
    schema: {
      body: {
        type: 'object',
        properties: {
          policy: POLICY_BODY, requests: { type: 'array', minItems: 1, maxItems: MAX_POLICY_TEST_REQUESTS }
        },
        required: ['policy', 'requests'],
        additionalProperties: false
      }
    }
  }, async (req, reply) => {
    try {
      const doc = parsePolicyDocument(req.body.policy)
      const requests = req.body.requests.map((r, i) => parsePolicyTestRequest(r, `body/requests/${i}`))
      return { ...testPolicy(doc, requests), proposedDigest: policyDigest(doc, deps.crypto) }
    } catch (err) {
      return bad(reply, err)
    }
  })

  app.post<{ Body: { policy: unknown } }>('/v1/policy/diff', {
    preHandler: deps.requireToken,
    schema: {
      body: { type: 'object', properties: { policy: POLICY_BODY }, required: ['policy'], additionalProperties: false }
    }
  }, async (req, reply) => {
    try {
      const doc = parsePolicyDocument(req.body.policy)
      return { ...digests(doc), ...diffPolicy(deps.policy.document(), doc) }
    } catch (err) {
      return bad(reply, err)
    }
  })

  app.post<{ Body: { policy: unknown, since?: number } }>('/v1/policy/replay', {
    preHandler: deps.requireToken,
    schema: {
      body: {
        type: 'object',
        properties: { policy: POLICY_BODY, since: { type: 'integer', minimum: 0 } },
        required: ['policy'],
        additionalProperties: false
      }
    }
  }, async (req, reply) => {
    try {
      const doc = parsePolicyDocument(req.body.policy)
      const { liveDigest, proposedDigest } = digests(doc)
      const live = compilePolicy(deps.policy.document(), liveDigest, deps.policy.hasPolicy)
      const proposed = compilePolicy(doc, proposedDigest)
      const result: ReplayResult = { replayed: 0, changes: [] }
      const opts = { since: req.body.since, crypto: deps.crypto }
      // The history is on disk: walk the order index, reading one entry at a time.
      for await (const id of deps.history.orderFrom(0)) {
        addReplayed(result, replayRequest(deps.dag, id, live, proposed, opts))
      }
      return { liveDigest, proposedDigest, since: req.body.since ?? null, ...result }
    } catch (err) {
      return bad(reply, err)
    }
  })
}

import type { FastifyInstance } from 'fastify'
import {
  checkEncodable, CID, fromHex, InputRejectedError, manualReportRefusal, parsePublicKey, toHex, verifyRestoreApproval
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { sendError, type RouteDeps } from '../context.js'
import { ApprovalsQuery, RestoreApprovalBody, TrustReportBody } from '../schemas.js'

interface Approval { subject: string, clears: string[], governor: string, sig: string }

/**
 * `GET /v1/trust`, `POST /v1/trust/report`, and restore approvals (`/v1/trust/approvals`)
 * collected here until the governors' restore quorum.
 */
export function trustRoutes (app: FastifyInstance, { ctx, requireToken }: RouteDeps): void {
  // Restore approvals wait here, per subject and exact set of cleared failures, until a governor submits the entry.
  const approvals = new Map<string, Approval[]>()
  const keyOf = (subject: string, clears: string[]): string => `${subject}|${[...clears].sort().join(',')}`

  app.get('/v1/trust', async () => {
    const view = ctx.trust.current()
    const gov = ctx.dag.currentGovernance()
    return {
      self: { peerId: ctx.peerId, ...ctx.trust.statusOfKey(ctx.publicKey) },
      quorums: gov.quorums,
      peers: ctx.trust.all(),
      failures: view.failures.map(f => ({ ...f, cleared: view.cleared.has(f.id) }))
    }
  })

  app.post<{ Body: { peer: string, reason: string } }>('/v1/trust/report', {
    preHandler: requireToken, schema: { body: TrustReportBody }
  }, async (req, reply) => {
    let subject: Uint8Array
    try {
      subject = parsePublicKey(req.body.peer)
    } catch {
      return sendError(reply, 400, 'invalid-request', 'body/peer must be a PeerId or hex key')
    }
    try {
      checkEncodable(req.body.reason, { field: 'reason' })
    } catch (err) {
      if (!(err instanceof InputRejectedError)) throw err
      return sendError(reply, 400, 'invalid-request', err.message, { field: err.field, rule: err.rule })
    }
    const refusal = manualReportRefusal(
      { subject: toHex(subject), self: ctx.publicKey, selfIsMember: ctx.isMember(ctx.publicKey) }
    )
    if (refusal === 'not-member') return sendError(
      reply, 409, 'not-member', 'this node is not a member and cannot report'
    )
    if (refusal === 'self-report') return sendError(reply, 409, 'self-report', 'a node does not report itself')
    const entry = await ctx.append(
      'trust.fail', { subject, reason: req.body.reason, detector: 'manual', evidence: null }
    )
    return { cid: entry.id, subject: toHex(subject) }
  })

  app.get<{ Querystring: { subject: string } }>('/v1/trust/approvals', {
    schema: { querystring: ApprovalsQuery }
  }, async (req) => ({
    approvals: [...approvals.values()].flat().filter(a => a.subject === req.query.subject)
  }))

  app.post<{ Body: Approval }>('/v1/trust/approvals', {
    preHandler: requireToken, schema: { body: RestoreApprovalBody }
  }, async (req, reply) => {
    const a = req.body
    let clears: CID[]
    try {
      clears = a.clears.map(c => CID.parse(c))
    } catch {
      return sendError(reply, 400, 'invalid-request', 'body/clears must be CIDs')
    }
    const gov = ctx.dag.currentGovernance()
    if (!gov.governors.has(a.governor)) {
      return sendError(reply, 403, 'not-governor', 'the approving key is not a governor of this mesh')
    }
    const statement = { mesh: ctx.dag.meshId, subject: fromHex(a.subject), clears }
    if (!verifyRestoreApproval(statement, { governor: fromHex(a.governor), sig: fromHex(a.sig) }, nodeCrypto)) {
      return sendError(reply, 400, 'bad-signature', 'the approval signature does not verify')
    }
    const key = keyOf(a.subject, a.clears)
    const list = (approvals.get(key) ?? []).filter(x => x.governor !== a.governor)
    list.push({ ...a, clears: [...a.clears].sort() })
    approvals.set(key, list)
    ctx.log.info(
      'restore approval collected', { subject: a.subject, approvals: list.length, quorum: gov.quorums.restore }
    )
    return { approvals: list.length, quorum: gov.quorums.restore }
  })
}

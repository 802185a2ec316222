import type { FastifyInstance } from 'fastify'
import {
  decodeGovernanceProposal, effectiveQuorum, fromBase64, fromHex, GovmeshError, verifyGovernanceApproval,
  type GovernanceState, type QuorumEntryType
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { sendError, type RouteDeps } from '../context.js'

/** Most proposals a node holds approvals for; the oldest is dropped first. */
export const MAX_PROPOSALS = 256

interface Proposal {
  statement: string
  type: QuorumEntryType
  /** Hex governor key → hex signature. */
  approvals: Map<string, string>
}

/**
 * Approvals of quorum entries (`policy.update`, `governor.*`) waiting at this node until a
 * governor completes the policy quorum and submits the entry. In memory, bounded, keyed by the
 * exact proposal bytes: an approval of other bytes is another proposal and never counts here.
 * `GET /v1/governance/approvals[?type=T]` and `POST /v1/governance/approvals`.
 */
export function governanceApprovalRoutes (app: FastifyInstance, { ctx, requireToken }: RouteDeps): void {
  const deps = {
    meshId: ctx.dag.meshId,
    governance: () => ctx.dag.currentGovernance(),
    crypto: nodeCrypto,
    requireToken,
    log: ctx.log
  }
  const pool = new Map<string, Proposal>()
  const view = (p: Proposal, gov: GovernanceState): unknown => ({
    statement: p.statement,
    type: p.type,
    // Approvals by keys no longer governors are kept out of the count and the answer.
    approvals: [...p.approvals].filter(([g]) => gov.governors.has(g)).map(([governor, sig]) => ({ governor, sig }))
  })

  app.get<{ Querystring: { type?: string } }>('/v1/governance/approvals', {
    schema: {
      querystring: {
        type: 'object', properties: { type: { type: 'string', maxLength: 64 } }, additionalProperties: false
      }
    }
  }, async (req) => {
    const gov = deps.governance()
    const list = [...pool.values()].filter(p => req.query.type === undefined || p.type === req.query.type)
    return { quorum: effectiveQuorum(gov, 'policy'), proposals: list.map(p => view(p, gov)) }
  })

  app.post<{ Body: { statement: string, governor: string, sig: string } }>('/v1/governance/approvals', {
    preHandler: deps.requireToken,
    schema: {
      body: {
        type: 'object',
        properties: {
          statement: { type: 'string', minLength: 1, maxLength: 700_000, pattern: '^[A-Za-z0-9+/]*={0,2}$' },
          governor: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          sig: { type: 'string', pattern: '^[0-9a-f]{128}$' }
        },
        required: ['statement', 'governor', 'sig'],
        additionalProperties: false
      }
    }
  }, async (req, reply) => {
    const { statement, governor, sig } = req.body
    let proposal
    try {
      proposal = decodeGovernanceProposal(fromBase64(statement))
    } catch (err) {
      if (!(err instanceof GovmeshError)) throw err
      return sendError(reply, 400, 'invalid-request', err.message, { code: err.code })
    }
    const gov = deps.governance()
    if (!gov.governors.has(governor)) {
      return sendError(reply, 403, 'not-governor', 'the approving key is not a governor of this mesh')
    }
    const approval = { governor: fromHex(governor), sig: fromHex(sig) }
    const ok = verifyGovernanceApproval({ mesh: deps.meshId, ...proposal }, approval, deps.crypto)
    if (!ok) return sendError(reply, 400, 'bad-signature', 'the approval signature does not verify for this proposal')
    let p = pool.get(statement)
    if (p === undefined) {
      if (pool.size >= MAX_PROPOSALS) pool.delete(pool.keys().next().value!)
      p = { statement, type: proposal.type, approvals: new Map() }
      pool.set(statement, p)
    }
    p.approvals.set(governor, sig)
    const approvals = [...p.approvals.keys()].filter(g => gov.governors.has(g)).length
    const quorum = effectiveQuorum(gov, 'policy')
    deps.log.info('governance approval collected', { type: p.type, governor: governor.slice(0, 16), approvals, quorum })
    return { approvals, quorum }
  })
}

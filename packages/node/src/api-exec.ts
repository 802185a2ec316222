import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  checkEncodable, CID, fromHex, GovmeshError, InputRejectedError, MAX_EXEC_TIMEOUT_MS, MAX_ROUTE, parsePublicKey, toHex,
  verifyRestoreApproval
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { ExecInputError, type ExecSubmit } from './exec.js'
import type { GovmeshNode } from './node.js'

/** Entry errors raised before signing: the request could never become an entry peers accept. */
const UNSIGNABLE: Record<string, number> = { 'entry.too-large': 413, 'entry.malformed': 400, 'entry.non-canonical': 400 }

type Guard = (req: FastifyRequest, reply: FastifyReply) => Promise<void>

interface Approval { subject: string, clears: string[], governor: string, sig: string }

/**
 * Routes for governed execution and trust: `POST /v1/exec`, `GET /v1/trust`,
 * `POST /v1/trust/report`, and restore approvals collected until the quorum.
 */
export function registerExecRoutes (app: FastifyInstance, node: GovmeshNode, requireToken: Guard): void {
  // Restore approvals wait here, per subject and exact set of cleared failures, until a governor submits the entry.
  const approvals = new Map<string, Approval[]>()
  const keyOf = (subject: string, clears: string[]): string => `${subject}|${[...clears].sort().join(',')}`

  app.post<{ Body: ExecSubmit }>('/v1/exec', {
    preHandler: requireToken,
    schema: {
      body: {
        type: 'object',
        properties: {
          action: { type: 'string', minLength: 1, maxLength: 128 },
          resource: { type: 'string', minLength: 1, maxLength: 1024 },
          target: { type: 'string', minLength: 1, maxLength: 128 },
          payload: {},
          route: { type: 'array', items: { type: 'string', maxLength: 128 }, maxItems: MAX_ROUTE },
          parent: { type: ['string', 'null'], maxLength: 128 },
          nonce: { type: 'string', maxLength: 64 },
          timeoutMs: { type: 'integer', minimum: 1, maximum: MAX_EXEC_TIMEOUT_MS },
          agent: {
            type: ['object', 'null'],
            properties: { key: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' }, sig: { type: 'string', pattern: '^[0-9a-fA-F]{128}$' } },
            required: ['key', 'sig'],
            additionalProperties: false
          }
        },
        required: ['action', 'resource', 'target'],
        additionalProperties: false
      }
    }
  }, async (req, reply) => {
    try {
      return await node.exec.submit(req.body)
    } catch (err) {
      if (err instanceof ExecInputError) return reply.code(400).send({ error: 'invalid-request', message: err.message })
      if (err instanceof InputRejectedError) {
        return reply.code(400).send({ error: 'invalid-request', field: err.field, rule: err.rule, message: err.message })
      }
      if (err instanceof GovmeshError && UNSIGNABLE[err.code] !== undefined) {
        return reply.code(UNSIGNABLE[err.code]!).send({ error: 'invalid-request', code: err.code, message: err.message })
      }
      if (err instanceof GovmeshError) return reply.code(422).send({ error: err.code, message: err.message })
      throw err
    }
  })

  app.get('/v1/trust', async () => {
    const view = node.trust.current()
    const gov = node.dag.currentGovernance()
    return {
      self: { peerId: node.peerId, ...node.trust.statusOfKey(node.publicKey) },
      quorums: gov.quorums,
      peers: node.trust.all(),
      failures: view.failures.map(f => ({ ...f, cleared: view.cleared.has(f.id) }))
    }
  })

  app.post<{ Body: { peer: string, reason: string } }>('/v1/trust/report', {
    preHandler: requireToken,
    schema: {
      body: {
        type: 'object',
        properties: { peer: { type: 'string', minLength: 1, maxLength: 128 }, reason: { type: 'string', minLength: 1, maxLength: 1024 } },
        required: ['peer', 'reason'],
        additionalProperties: false
      }
    }
  }, async (req, reply) => {
    let subject: Uint8Array
    try {
      subject = parsePublicKey(req.body.peer)
    } catch {
      return reply.code(400).send({ error: 'invalid-request', message: 'body/peer must be a PeerId or hex key' })
    }
    try {
      checkEncodable(req.body.reason, { field: 'reason' })
    } catch (err) {
      const e = err as InputRejectedError
      return reply.code(400).send({ error: 'invalid-request', field: e.field, rule: e.rule, message: e.message })
    }
    if (!node.isMember(node.publicKey)) return reply.code(409).send({ error: 'not-member', message: 'this node is not a member and cannot report' })
    const entry = await node.append('trust.fail', { subject, reason: req.body.reason, detector: 'manual', evidence: null })
    return { cid: entry.id, subject: toHex(subject) }
  })

  app.get<{ Querystring: { subject: string } }>('/v1/trust/approvals', {
    schema: { querystring: { type: 'object', properties: { subject: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, required: ['subject'], additionalProperties: false } }
  }, async (req) => ({
    approvals: [...approvals.values()].flat().filter(a => a.subject === req.query.subject)
  }))

  app.post<{ Body: Approval }>('/v1/trust/approvals', {
    preHandler: requireToken,
    schema: {
      body: {
        type: 'object',
        properties: {
          subject: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          clears: { type: 'array', items: { type: 'string', maxLength: 128 }, minItems: 1, maxItems: 64 },
          governor: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          sig: { type: 'string', pattern: '^[0-9a-f]{128}$' }
        },
        required: ['subject', 'clears', 'governor', 'sig'],
        additionalProperties: false
      }
    }
  }, async (req, reply) => {
    const a = req.body
    let clears: CID[]
    try {
      clears = a.clears.map(c => CID.parse(c))
    } catch {
      return reply.code(400).send({ error: 'invalid-request', message: 'body/clears must be CIDs' })
    }
    const gov = node.dag.currentGovernance()
    if (!gov.governors.has(a.governor)) return reply.code(403).send({ error: 'not-governor', message: 'the approving key is not a governor of this mesh' })
    const ok = verifyRestoreApproval({ mesh: node.dag.meshId, subject: fromHex(a.subject), clears }, { governor: fromHex(a.governor), sig: fromHex(a.sig) }, nodeCrypto)
    if (!ok) return reply.code(400).send({ error: 'bad-signature', message: 'the approval signature does not verify' })
    const key = keyOf(a.subject, a.clears)
    const list = (approvals.get(key) ?? []).filter(x => x.governor !== a.governor)
    list.push({ ...a, clears: [...a.clears].sort() })
    approvals.set(key, list)
    node.log.info('restore approval collected', { subject: a.subject, approvals: list.length, quorum: gov.quorums.restore })
    return { approvals: list.length, quorum: gov.quorums.restore }
  })
}

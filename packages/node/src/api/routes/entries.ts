import type { FastifyInstance } from 'fastify'
import { fromBase64 } from '@govmesh/core'
import { API_MAX_ENTRIES_PER_POST } from '../../constants.js'
import type { IngestOutcome } from '../../ledger.js'
import { sendError, type RouteDeps } from '../context.js'

/** 422 when any entry was rejected, 202 when any waits for parents, else 200. */
function statusFor (outcomes: IngestOutcome[]): number {
  if (outcomes.some(o => o.status === 'rejected')) return 422
  if (outcomes.some(o => o.status === 'pending')) return 202
  return 200
}

/** The entries of a JSON body `{ entry }` or `{ entries }` (base64 strings), or why it is neither. */
function parseEntriesBody (body: unknown): Uint8Array[] | string {
  if (
    body === null || typeof body !== 'object' || Array.isArray(body)
  ) return 'body must be a JSON object or raw dag-cbor'
  const unknown = Object.keys(body).find(k => k !== 'entry' && k !== 'entries')
  if (unknown !== undefined) return `body/${unknown} is not a known field (expected "entry" or "entries")`
  const { entry, entries } = body as { entry?: unknown, entries?: unknown }
  if (entry !== undefined && entries !== undefined) return 'body must have "entry" or "entries", not both'
  let list: unknown[]
  if (entry !== undefined) list = [entry]
  else if (Array.isArray(entries) && entries.length > 0 && entries.length <= API_MAX_ENTRIES_PER_POST) list = entries
  else return `body must have "entry" (base64 string) or "entries" (array of 1..${API_MAX_ENTRIES_PER_POST} ` +
    `base64 strings)`
  const items: Uint8Array[] = []
  for (const [i, s] of list.entries()) {
    const field = entry !== undefined ? 'body/entry' : `body/entries/${i}`
    if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return `${field} must be a base64 string`
    try {
      items.push(fromBase64(s))
    } catch {
      return `${field} must be a base64 string`
    }
  }
  return items
}

/** `POST /v1/entries`: signed entries from clients (JSON of base64 strings, or one raw dag-cbor entry). */
export function entryRoutes (app: FastifyInstance, { ctx, requireToken }: RouteDeps): void {
  // Validated by hand: the body is either JSON or raw dag-cbor bytes.
  app.post<{ Body: unknown }>('/v1/entries', { preHandler: requireToken }, async (req, reply) => {
    const items = Buffer.isBuffer(req.body) ? [new Uint8Array(req.body)] : parseEntriesBody(req.body)
    if (typeof items === 'string') return sendError(reply, 400, 'invalid-request', items)
    const outcomes = await ctx.ingest(items, 'api', { publish: true, sync: ctx.fsync })
    return reply.code(statusFor(outcomes)).send({ results: outcomes })
  })
}

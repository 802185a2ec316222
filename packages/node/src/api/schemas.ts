/**
 * Named JSON schemas of the API's inputs (Fastify validates against them; unknown fields are
 * rejected). Limits come from core and constants.ts, so the API and the entry codec agree.
 *
 * @packageDocumentation
 */
import { MAX_EXEC_TIMEOUT_MS, MAX_ROUTE } from '@govmesh/core'
import { API_MAX_ANCESTRY, API_MAX_PAGE } from '../constants.js'

export const CID_STRING = { type: 'string', minLength: 1, maxLength: 128 } as const
export const CID_PATTERN = '^[a-z0-9]{8,128}$'
export const HEX_KEY = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const
export const HEX_SIG = { type: 'string', pattern: '^[0-9a-f]{128}$' } as const
/** A hex key or an Ed25519 PeerId. */
export const AUTHOR_PATTERN = '^[0-9a-f]{64}$|^12D3KooW[1-9A-HJ-NP-Za-km-z]+$'

const closed = <P extends Record<string, unknown>>(properties: P, required: string[] = []) =>
  ({ type: 'object', properties, required, additionalProperties: false }) as const

export const CidParams = { type: 'object', properties: { cid: CID_STRING }, required: ['cid'] } as const
export const CidPatternParams = {
  type: 'object', properties: { cid: { type: 'string', pattern: CID_PATTERN } }, required: ['cid']
} as const

export const EntryFormatQuery = closed({ format: { type: 'string', enum: ['json', 'raw'] } })
export const DagLogQuery = closed({
  author: { type: 'string', pattern: AUTHOR_PATTERN },
  type: { type: 'string', maxLength: 64 },
  limit: { type: 'integer', minimum: 1, maximum: API_MAX_PAGE }
})
export const AncestryQuery = closed({
  depth: { type: 'integer', minimum: 0, maximum: API_MAX_ANCESTRY },
  limit: { type: 'integer', minimum: 1, maximum: API_MAX_ANCESTRY }
})
export const NextPositionQuery = closed({ author: HEX_KEY, parents: { type: 'string', maxLength: 8192 } }, ['author'])

export const ExecBody = closed({
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
    properties: {
      key: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' }, sig: { type: 'string', pattern: '^[0-9a-fA-F]{128}$' }
    },
    required: ['key', 'sig'],
    additionalProperties: false
  }
}, ['action', 'resource', 'target'])

export const TrustReportBody = closed({
  peer: { type: 'string', minLength: 1, maxLength: 128 },
  reason: { type: 'string', minLength: 1, maxLength: 1024 }
}, ['peer', 'reason'])
export const ApprovalsQuery = closed({ subject: HEX_KEY }, ['subject'])
export const RestoreApprovalBody = closed({
  subject: HEX_KEY,
  clears: { type: 'array', items: { type: 'string', maxLength: 128 }, minItems: 1, maxItems: 64 },
  governor: HEX_KEY,
  sig: HEX_SIG
}, ['subject', 'clears', 'governor', 'sig'])

export const JoinBody = closed({ multiaddr: { type: 'string', minLength: 1, maxLength: 1024 } }, ['multiaddr'])
export const BlockBody = closed(
  { peers: { type: 'array', items: { type: 'string', maxLength: 128 }, maxItems: 1024 } }, ['peers']
)

export const LineageSearchQuery = closed({
  cid: { type: 'string', pattern: '^[a-z0-9]{1,128}$' },
  author: { type: 'string', pattern: AUTHOR_PATTERN },
  type: { type: 'string', maxLength: 64 },
  since: { type: 'integer', minimum: 0 },
  until: { type: 'integer', minimum: 0 },
  limit: { type: 'integer', minimum: 1, maximum: API_MAX_PAGE }
})
export const LineageGraphQuery = closed({ ancestry: { type: 'integer', minimum: 0, maximum: 5000 } })

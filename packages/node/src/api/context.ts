import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Dag, PolicyState } from '@govmesh/core'
import type { NodeEventBus } from '../events.js'
import type { HistoryIndex } from '../history-index.js'
import type { Append, Ingest } from '../ledger.js'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'
import type { MeshNetwork } from '../network.js'
import type { NodeStatus } from '../node-status.js'
import type { PeerDirectory } from '../peers.js'
import type { ConnectionService } from '../services/connections.js'
import type { ExecService } from '../services/exec.js'
import type { TrustTracker } from '../services/trust.js'

/** What the API's routes read and call: a node provides it, but no route gets more than this. */
export interface ApiContext {
  readonly peerId: string
  readonly publicKey: string
  readonly meshId: string
  readonly measurement: string
  readonly dag: Dag
  /** The store's orderings of history (log, search, children). */
  readonly historyIndex: HistoryIndex
  readonly policy: PolicyState
  readonly fsync: boolean
  readonly ingest: Ingest
  readonly append: Append
  readonly trust: TrustTracker
  readonly peers: PeerDirectory
  readonly network: Pick<MeshNetwork, 'connectedPeers' | 'connections'>
  readonly exec: Pick<ExecService, 'submit'>
  readonly connections: Pick<ConnectionService, 'join' | 'setBlocked'>
  readonly events: NodeEventBus
  readonly metrics: NodeMetrics
  readonly log: Logger
  status: () => NodeStatus
  isMember: (key: string) => boolean
  isMemberPeer: (peerId: string) => boolean
}

/** A preHandler that answers 401 unless the request carries the API's bearer token. */
export type TokenGuard = (req: FastifyRequest, reply: FastifyReply) => Promise<void>

/** What every route module receives. */
export interface RouteDeps {
  ctx: ApiContext
  requireToken: TokenGuard
}

/** The one shape of an error answer: `{ error, message, …detail }`. */
export function sendError (
  reply: FastifyReply, status: number, error: string, message: string, detail: Record<string, unknown> = {}
): FastifyReply {
  return reply.code(status).send({ error, message, ...detail })
}

/** 404 for an entry this node does not hold. */
export function noEntry (reply: FastifyReply, cid: string): FastifyReply {
  return sendError(reply, 404, 'not-found', `no entry ${cid}`)
}

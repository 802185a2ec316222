/**
 * The JSON shapes of the API's answers and inputs, named once: the routes return them and the CLI
 * (and any client) imports them, so a field renamed here breaks the build of every reader.
 *
 * @packageDocumentation
 */
import type { PeerStatus, PolicyDocument } from '@govmesh/core'
import type { IngestOutcome } from '../ledger.js'
import type { TrustEntry } from '../services/trust.js'

export type { NodeStatus as StatusResponse } from '../node-status.js'
export type { ExecResponse, ExecSubmit as ExecRequest } from '../services/exec.js'
export type { EntryView } from '../entry-view.js'

/** One peer of `GET /v1/peers`. */
export interface PeerView {
  peerId: string
  connected: boolean
  member: boolean
  zone: string | null
  addrs: string[]
  lastHeartbeat: number | null
  policyDigest: string | null
  measurement: string | null
  entries: number | null
}
export interface PeersResponse { peers: PeerView[] }

/** `GET /v1/trust`. */
export interface TrustResponse {
  self: PeerStatus & { peerId: string }
  quorums: { fail: number, restore: number }
  peers: TrustEntry[]
  failures: Array<{ id: string, subject: string, reporter: string, reason: string, cleared: boolean }>
}

/** A governor's restore approval (`POST /v1/trust/approvals`). */
export interface RestoreApprovalWire { subject: string, clears: string[], governor: string, sig: string }

/** `GET /v1/policy`. */
export interface PolicyResponse { digest: string, hasPolicy: boolean, document: PolicyDocument, state: string }

/** `GET /v1/dag/next`: where an author's next entry goes. */
export interface NextPositionResponse { mesh: string, seq: number, prev: string | null, parents: string[] }

/** `POST /v1/entries`. */
export interface EntriesResponse { results: IngestOutcome[] }

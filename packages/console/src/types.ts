/** Shapes of the node API answers the console reads (see the README's HTTP API table). */
import type { TrustFailure as RecordedFailure } from '@govmesh/core'
import type { EntryView, LineageGraph, LineageNode, NodeStatus } from '@govmesh/node'

export type { EntryView, LineageGraph, LineageNode, NodeStatus }

/** A trust failure as `/v1/trust` lists it: the recorded one, and whether a restore cleared it. */
export interface TrustFailure extends RecordedFailure {
  cleared: boolean
}

export interface Member {
  peerId: string
  key: string
  zone: string | null
  status: string
  since: number | null
  reasons: string[]
  entries: number | null
  self: boolean
  member: boolean
  governor: boolean
  connected: boolean
  lastHeartbeat: number | null
  heartbeatAgeMs: number | null
  policyDigest: string | null
  policyMatches: boolean | null
  measurement: string | null
  measurementAllowed: boolean | null
  lag: number | null
}

export interface MembersAnswer {
  now: number
  self: string
  meshName: string
  policyDigest: string
  entries: number
  members: Member[]
}

export interface Counter {
  labels: Record<string, string | number>
  value: number
}
export interface CountersAnswer {
  entries: number
  pending: number
  accepted: Counter[]
  rejections: Counter[]
  syncSessions: Counter[]
  syncEntries: Counter[]
  gossip: Counter[]
}





export interface GovernanceAnswer {
  meshId: string
  name: string
  governors: string[]
  members: Array<{ key: string; zone: string }>
  removed: Record<string, number>
  quorums: { fail: number; restore: number }
}

export interface TrustAnswer {
  self: { peerId: string; status: string }
  quorums: { fail: number; restore: number }
  peers: Array<{
    peerId: string
    key: string
    zone: string | null
    status: string
    since: number | null
    reasons: string[]
    entries: string[]
  }>
  failures: TrustFailure[]
}

export interface PolicyVersion {
  cid: string | null
  author: string | null
  time: number
  digest: string
  document: unknown
}

export interface ExecAnswer {
  ok: boolean
  result?: unknown
  resultCid?: string
  refusalCid?: string
  reason?: string
  detail?: string
  lineage: string[]
}

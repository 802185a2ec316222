/** Shapes of the node API answers the console reads (see the README's HTTP API table). */

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

export interface NodeStatus {
  peerId: string
  publicKey: string
  meshId: string
  meshName: string
  zone: string | null
  member: boolean
  measurement: string
  policyDigest: string
  hasPolicy: boolean
  heads: string[]
  entries: number
  pending: number
  peers: number
  uptimeMs: number
}

export interface EntryView {
  cid: string
  type: string
  author: string
  authorPeerId: string
  seq: number
  prev: string | null
  parents: string[]
  time: number
  body: Record<string, unknown>
  sig: string
  signature: 'valid'
  revoked: boolean
}

export interface LineageNode extends EntryView {
  role: 'execution' | 'trust' | 'ancestry'
  zone: string | null
  policyDigest: string | null
}

export interface LineageGraph {
  root: string
  request: string | null
  nodes: LineageNode[]
}

export interface GovernanceAnswer {
  meshId: string
  name: string
  governors: string[]
  members: Array<{ key: string; zone: string }>
  removed: Record<string, number>
  quorums: { fail: number; restore: number }
}

export interface TrustFailure {
  id: string
  subject: string
  reporter: string
  reason: string
  detector: string
  time: number
  cleared: boolean
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

/** What `GET /v1/status` and `govmesh status` show of a node. */
export interface NodeStatus {
  peerId: string
  publicKey: string
  addrs: string[]
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
  frontier: Record<string, number>
  uptimeMs: number
}

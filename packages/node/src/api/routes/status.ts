import type { FastifyInstance } from 'fastify'
import type { RouteDeps } from '../context.js'

/** `GET /v1/status`, `/v1/peers`, `/v1/governance`: who this node is and what it knows of its mesh. */
export function statusRoutes (app: FastifyInstance, { ctx }: RouteDeps): void {
  app.get('/v1/status', async () => ctx.status())

  app.get('/v1/peers', async () => {
    const connected = ctx.network.connectedPeers()
    const gov = ctx.dag.currentGovernance()
    const records = new Map([...ctx.peers.values()].map(r => [r.peerId, r]))
    const peers = [...new Set([...connected, ...records.keys()])].sort()
    const connections = ctx.network.connections()
    return {
      peers: peers.map(peerId => {
        const rec = records.get(peerId)
        const key = rec?.key
        return {
          peerId,
          connected: connected.includes(peerId),
          member: ctx.isMemberPeer(peerId),
          zone: key !== undefined ? gov.members.get(key)?.zone ?? null : null,
          addrs: connections.filter(c => c.peerId === peerId).map(c => c.remoteAddr),
          lastHeartbeat: rec?.lastSeen ?? null,
          policyDigest: rec?.policyDigest ?? null,
          measurement: rec?.measurement ?? null,
          entries: rec?.entries ?? null
        }
      })
    }
  })

  app.get('/v1/governance', async () => {
    const gov = ctx.dag.currentGovernance()
    return {
      meshId: ctx.meshId,
      name: gov.meshName,
      governors: [...gov.governors].sort(),
      members: [...gov.members.values()].map(m => ({ ...m })),
      removed: Object.fromEntries(gov.removed),
      quorums: gov.quorums,
      removedGovernors: Object.fromEntries(gov.removedGovernors),
      heads: ctx.dag.governanceHeads()
    }
  })
}

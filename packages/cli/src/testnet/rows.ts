import { nodeGet } from './control.js'
import type { PeerView } from './diagnose.js'
import { alive, type TestnetNode } from './state.js'

/** One node of `testnet status`: the status its peers agree on (or `down`), with their reasons. */
export interface NodeStatusRow {
  name: string
  peerId: string
  zone: string
  api: string | null
  token: string | null
  status: string
  reasons: string[]
  policyDigest: string | null
  pid: number | null
}

interface TrustView { self: { status: string }, peers: Array<{ peerId: string, status: string, reasons: string[] }> }

/** How the other running nodes see each node: the status they agree on, or `down`; `views` holds each peer's view. */
export async function statusRows (nodes: TestnetNode[]): Promise<Array<NodeStatusRow & { views: PeerView[] }>> {
  const trust = await Promise.all(
    nodes.map(async n => alive(n.pid) ? await nodeGet<TrustView>(n, '/v1/trust') : undefined)
  )
  const status = await Promise.all(
    nodes.map(async n => alive(n.pid) ? await nodeGet<{ policyDigest: string }>(n, '/v1/status') : undefined)
  )
  return nodes.map((n, i) => {
    let s = 'down'
    const own = trust[i]
    const views: PeerView[] = trust.filter((t, j) => j !== i && t !== undefined)
      .map(
        t => t!.peers.find(p => p.peerId === n.peerId) ?? {
          status: 'unknown', reasons: ['not in this peer\'s trust view']
        }
      )
    if (own !== undefined) {
      const seen = views.map(v => v.status)
      s = own.self.status !== 'trusted'
        ? own.self.status
        : seen.length === 0 ? 'trusted' : seen.every(
          x => x === seen[0]
        ) ? seen[0]! : `mixed(${[...new Set(seen)].join(',')})`
    }
    const reasons = [...new Set(views.flatMap(v => v.reasons))]
    return {
      name: n.name, peerId: n.peerId, zone: n.zone, api: n.api, token: n.token, status: s, reasons,
      policyDigest: status[i]?.policyDigest ?? null, pid: alive(n.pid) ? n.pid : null, views
    }
  })
}

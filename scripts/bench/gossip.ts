import { readFileSync } from 'node:fs'
import { toBase64 } from '@govmesh/core'
import { MemberWriter, TestMesh, waitFor, type NodeHandle } from '../../test/helpers/cluster.js'
import { percentile } from './measure.js'

export interface GossipFigures {
  p50Ms: number
  p99Ms: number
  trials: number
  nodes: number
  rssMb: number
  rssMaxMb: number
}

/** Follows a node's server-sent events, recording when each entry CID arrives and every trust change. */
export class EventWatcher {
  readonly seen = new Map<string, number>()
  readonly trust: Array<{ at: number, peerId: string, status: string }> = []
  private readonly abort = new AbortController()

  async start (api: string): Promise<void> {
    const res = await fetch(`${api}/v1/events`, { signal: this.abort.signal })
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read()
          if (done) return
          buffer += decoder.decode(value, { stream: true })
          let idx
          while ((idx = buffer.indexOf('\n\n')) >= 0) {
            const chunk = buffer.slice(0, idx)
            buffer = buffer.slice(idx + 2)
            const at = performance.now()
            if (chunk.startsWith('event: entry:added')) {
              const data = JSON.parse(chunk.split('\ndata: ')[1]!) as { id: string }
              this.seen.set(data.id, at)
            } else if (chunk.startsWith('event: trust:changed')) {
              const data = JSON.parse(chunk.split('\ndata: ')[1]!) as { peerId: string, status: string }
              this.trust.push({ at, peerId: data.peerId, status: data.status })
            }
          }
        }
      } catch { /* aborted */ }
    })()
  }

  /** Time of the first trust change of `peerId` to `status` after `since`. */
  trustAt (peerId: string, status: string, since: number): number | undefined {
    return this.trust.find(t => t.peerId === peerId && t.status === status && t.at >= since)?.at
  }

  stop (): void { this.abort.abort() }
}

export function rssMb (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

/** Gossip propagation of one entry across N real node processes, and idle RSS per node. */
export async function benchGossip (nodes = 5, trials = 100): Promise<GossipFigures> {
  const mesh = new TestMesh()
  const writer = new MemberWriter()
  const watchers: EventWatcher[] = []
  try {
    await mesh.create({ nodes, extraMembers: [{ keys: writer.keys, zone: 'a' }] })
    writer.open(mesh.genesisPath)
    const [first, ...rest] = mesh.nodes as [NodeHandle, ...NodeHandle[]]
    await mesh.start(first)
    await Promise.all(rest.map(n => mesh.start(n, { bootstrap: [first] })))
    // Let heartbeats introduce the members to each other and the gossip mesh form.
    await waitFor(
      'full mesh',
      async () => (await Promise.all(mesh.nodes.map(n => mesh.status(n)))).every(s => s.peers >= nodes - 1), 30_000
    )
    await new Promise(resolve => setTimeout(resolve, 1500))
    const rss = mesh.nodes.map(n => rssMb(n.proc!.pid!))

    for (const n of mesh.nodes) {
      const w = new EventWatcher()
      await w.start(n.api!)
      watchers.push(w)
    }
    const latencies: number[] = []
    const entries = writer.next(trials)
    for (let i = 0; i < trials; i++) {
      const origin = mesh.nodes[i % nodes]!
      const e = entries[i]!
      const res = await mesh.post(origin, '/v1/entries', { entry: toBase64(e.bytes) })
      if (res.status !== 200) throw new Error(`publish failed: ${res.status}`)
      // Measured from the origin's own entry:added event, so HTTP and SSE delays cancel out.
      await waitFor('entry at every node', () => watchers.every(w => w.seen.has(e.id)) ? true : undefined, 10_000, 1)
      const t0 = watchers[i % nodes]!.seen.get(e.id)!
      const others = watchers.filter((_, j) => j !== i % nodes)
      latencies.push(Math.max(...others.map(w => w.seen.get(e.id)!)) - t0)
    }
    latencies.sort((a, b) => a - b)
    return {
      p50Ms: Number(percentile(latencies, 50).toFixed(2)),
      p99Ms: Number(percentile(latencies, 99).toFixed(2)),
      trials,
      nodes,
      rssMb: Number((rss.reduce((a, b) => a + b, 0) / rss.length).toFixed(1)),
      rssMaxMb: Number(Math.max(...rss).toFixed(1))
    }
  } finally {
    for (const w of watchers) w.stop()
    await mesh.cleanup()
  }
}

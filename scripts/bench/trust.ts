import { Agent } from 'node:http'
import { readFileSync } from 'node:fs'
import { approveRestore, CID, createEntry, publicKeyFromPeerId, toBase64, toHex } from '@govmesh/core'
import { MemberWriter, TestMesh, waitFor, type NodeHandle } from '../../test/helpers/cluster.js'
import { metricSum } from '../../test/helpers/metrics.js'
import { EventWatcher } from './gossip.js'
import { postJson } from './keep-alive.js'
import { percentile } from './measure.js'

export interface TrustFigures {
  failClosedP50Ms: number
  failClosedP99Ms: number
  rawGossipP99Ms: number
  failClosedToGossipP99: number
  execRoundTripP50Ms: number
  execRoundTripP99Ms: number
  execPerSec: number
  trials: number
  /** Over all nodes, whole run: exec receivers that had to pull missing parents (PROTOCOL.md §21.5). */
  execPulls: number
  /** Over all nodes, whole run: entries sent in exec frames' `context` (§21.2). */
  execContextEntries: number
  /** Records per sealed batch, over all nodes. */
  sealedBatchMean: number
}

const p = (xs: number[], q: number): number => Number(percentile([...xs].sort((a, b) => a - b), q).toFixed(2))

/**
 * A wait that, when it times out, says what each node holds: its view of `subject`, the last
 * trust events its watcher saw, and its entry count, so a run that fails tells why.
 */
async function diagnosed<T> (
  mesh: TestMesh, watchers: EventWatcher[], subject: string, marks: Record<string, number>, wait: Promise<T>
): Promise<T> {
  try {
    return await wait
  } catch (err) {
    const views = await Promise.all(mesh.nodes.map(async (n, i) => {
      try {
        const t = await mesh.get<{ peers: Array<{ peerId: string, status: string }> }>(n, '/v1/trust')
        const s = await mesh.get<{ entries: number }>(n, '/v1/status')
        const seen = watchers[i]?.trust.filter(x => x.peerId === subject).slice(-3)
          .map(x => `${x.status} at ${x.at.toFixed(1)}`)
        return `node${i}: ${t.peers.find(x => x.peerId === subject)?.status ?? 'absent'}, entries ${s.entries}, ` +
          `last events ${JSON.stringify(seen)}`
      } catch (e) {
        return `node${i}: unreadable (${(e as Error).message})`
      }
    }))
    const node0 = mesh.nodes[0]!
    const log = await mesh.get<{ entries: Array<Record<string, unknown>> }>(node0, '/v1/dag/log?limit=8')
      .catch(() => ({ entries: [] }))
    const trust = await mesh.get<unknown>(node0, '/v1/trust').catch(() => null)
    const at = Object.entries(marks).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')
    throw new Error(`${(err as Error).message} (${at})\n${views.join('\n')}\n` +
      `node0 log: ${JSON.stringify(log.entries)}\nnode0 trust: ${JSON.stringify(trust)}`)
  }
}

/** Fail-closed latency, raw gossip latency, governed exec round trip and throughput on a 5-node mesh. */
export async function benchTrust (trials = 30): Promise<TrustFigures> {
  const mesh = new TestMesh()
  const writer = new MemberWriter()
  const watchers: EventWatcher[] = []
  // The exec phases post over held connections: a fetch per request cost the client more CPU than a node.
  const agent = new Agent({ keepAlive: true, maxSockets: 16 })
  const exec = async (via: NodeHandle, body: unknown): Promise<{ status: number, body: unknown }> =>
    await postJson(agent, via.api!, '/v1/exec', via.token!, body)
  try {
    const policy = JSON.parse(
      readFileSync(new URL('../../testnet/policies/demo.json', import.meta.url), 'utf8')
    ) as Record<string, unknown>
    await mesh.create(
      { nodes: 5, zones: ['a', 'a', 'a', 'a', 'a'], policy, extraMembers: [{ keys: writer.keys, zone: 'a' }] }
    )
    writer.open(mesh.genesisPath)
    const [first, ...rest] = mesh.nodes as [NodeHandle, ...NodeHandle[]]
    await mesh.start(first)
    await Promise.all(rest.map(n => mesh.start(n, { bootstrap: [first] })))
    await waitFor('full mesh, all trusted', async () => {
      const all = await Promise.all(mesh.nodes.map(n => mesh.get<{ peers: Array<{ status: string }> }>(n, '/v1/trust')))
      return all.every(t => t.peers.filter(x => x.status === 'trusted').length >= 5)
    }, 60_000, 100)
    for (const n of mesh.nodes) {
      const w = new EventWatcher()
      await w.start(n.api!)
      watchers.push(w)
    }

    // Raw gossip: one entry from each origin in turn reaching every other node.
    const gossip: number[] = []
    for (const [i, e] of writer.next(trials).entries()) {
      const o = i % 5
      await mesh.post(mesh.nodes[o]!, '/v1/entries', { entry: toBase64(e.bytes) })
      await waitFor('gossip everywhere', () => watchers.every(w => w.seen.has(e.id)) ? true : undefined, 10_000, 1)
      gossip.push(
        Math.max(...watchers.filter((_, j) => j !== o).map(w => w.seen.get(e.id)!)) - watchers[o]!.seen.get(e.id)!
      )
    }

    // Fail closed: report acknowledged at one node → every other node's trust view refuses the subject.
    const reporter = mesh.nodes[0]!
    const subject = mesh.nodes[4]!
    const failClosed: number[] = []
    const gov = mesh.governors[0]!
    for (let i = 0; i < trials; i++) {
      const sent = performance.now()
      const res = await mesh.post(reporter, '/v1/trust/report', { peer: subject.peerId, reason: `bench ${i}` })
      const acked = performance.now()
      // A peer may quarantine before a loaded reporter's answer arrives: such a trial counts 0 ms, it is not lost.
      // Only events after the report was sent count: an earlier bound matched the previous trial's quarantine,
      // so the restore went out before this report had reached every node, and a node that then took both
      // together never changed its view (the wait for "restored" timed out).
      const since = sent
      if (res.status !== 200) throw new Error(`report failed: ${res.status}`)
      const others = watchers.filter((_, j) => j !== 0)
      await diagnosed(mesh, watchers, subject.peerId, { sent, acked, since }, waitFor(
        'quarantine everywhere',
        () => others.every(w => w.trustAt(subject.peerId, 'quarantined', since) !== undefined) ? true : undefined,
        10_000, 1
      ))
      failClosed.push(
        Math.max(0, Math.max(...others.map(w => w.trustAt(subject.peerId, 'quarantined', since)!)) - acked)
      )
      // Lift it with the governor (restore quorum 1) before the next trial, in every view, the subject's own
      // included: a subject that took the next report before this restore would stay quarantined throughout.
      const cleared = performance.now()
      await restore(mesh, reporter, gov, subject.peerId, (res.body as { cid: string }).cid)
      await diagnosed(mesh, watchers, subject.peerId, { sent, acked, since, cleared }, waitFor(
        'restored everywhere',
        () => watchers.every(w => w.trustAt(subject.peerId, 'restored', cleared) !== undefined) ? true : undefined,
        10_000, 1
      ))
    }

    // The exec phases need no event stream: each watcher cost its node an event per entry and the
    // bench process a parse, CPU the five nodes share on this machine.
    for (const w of watchers) w.stop()

    // One-hop governed exec round trips (node 1 → node 2, both zone a).
    const rtt: number[] = []
    const target = mesh.nodes[1]!
    for (let i = 0; i < trials * 2; i++) {
      const t0 = performance.now()
      const r = await exec(reporter, { action: 'echo', resource: `bench/${i}`, target: target.peerId })
      if (
        r.status !== 200 || (r.body as { ok: boolean }).ok !== true
      ) throw new Error(`exec failed: ${JSON.stringify(r.body)}`)
      rtt.push(performance.now() - t0)
    }

    // Throughput: governed execs at one node (executed locally), 16 concurrent clients for 3 s.
    const self = mesh.nodes[2]!
    let done = 0
    const until = performance.now() + 3000
    const t0 = performance.now()
    await Promise.all(Array.from({ length: 16 }, async (_, c) => {
      let k = 0
      while (performance.now() < until) {
        const r = await exec(self, { action: 'echo', resource: `tp/${c}/${k++}`, target: self.peerId })
        if ((r.body as { ok: boolean }).ok) done++
      }
    }))
    const execPerSec = done / ((performance.now() - t0) / 1000)
    const metrics = await Promise.all(mesh.nodes.map(async n => await mesh.metrics(n)))
    const total = (name: string): number => metrics.reduce((sum, m) => sum + metricSum(m, name), 0)

    return {
      failClosedP50Ms: p(failClosed, 50),
      failClosedP99Ms: p(failClosed, 99),
      rawGossipP99Ms: p(gossip, 99),
      failClosedToGossipP99: Number((p(failClosed, 99) / Math.max(0.01, p(gossip, 99))).toFixed(2)),
      execRoundTripP50Ms: p(rtt, 50),
      execRoundTripP99Ms: p(rtt, 99),
      execPerSec: Math.round(execPerSec),
      trials,
      execPulls: total('govmesh_exec_pulls_total'),
      execContextEntries: total('govmesh_exec_context_entries_total'),
      sealedBatchMean: Number((total('govmesh_sealed_records_total') /
        Math.max(1, total('govmesh_sealed_batches_total'))).toFixed(2))
    }
  } finally {
    for (const w of watchers) w.stop()
    agent.destroy()
    await mesh.cleanup()
  }
}

async function restore (
  mesh: TestMesh, via: NodeHandle, gov: { secretKey: Uint8Array, publicKey: Uint8Array }, subjectPeerId: string,
  failCid: string
): Promise<void> {
  const status = await mesh.get<{ meshId: string }>(via, '/v1/status')
  const subject = publicKeyFromPeerId(subjectPeerId)
  const clears = [CID.parse(failCid)]
  const approval = approveRestore({ mesh: CID.parse(status.meshId), subject, clears }, gov)
  const pos = await mesh.get<{ mesh: string, seq: number, prev: string | null, parents: string[] }>(
    via, `/v1/dag/next?author=${toHex(gov.publicKey)}&parents=${failCid}`
  )
  const entry = createEntry({
    mesh: CID.parse(
      pos.mesh
    ), seq: pos.seq, prev: pos.prev === null ? null : CID.parse(pos.prev), parents: pos.parents.map(
      x => CID.parse(x)
    ),
    type: 'trust.restore', body: { subject, clears, approvals: [approval] }, time: Date.now()
  }, gov)
  const res = await mesh.post(via, '/v1/entries', { entry: toBase64(entry.bytes) })
  if (res.status !== 200) throw new Error(`restore failed: ${JSON.stringify(res.body)}`)
}

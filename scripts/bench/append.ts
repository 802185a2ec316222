import { Agent } from 'node:http'
import { readFileSync } from 'node:fs'
import {
  createDag, decodeGenesisFile, execRequestBody, generateKeyPair, nextEntry, toBase64, type Dag, type KeyPair
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { TestMesh, waitFor, type NodeHandle } from '../../test/helpers/cluster.js'
import { EventWatcher } from './gossip.js'
import { postJson } from './keep-alive.js'
import { percentile } from './measure.js'

export interface AppendFigures {
  /** One writer posting signed entries one at a time (awaiting each) to a node's `POST /v1/entries`. */
  sequentialPerSec: number
  /** 16 writers at once, each its own chain. */
  concurrentPerSec: number
  /** The second node's receipt rate of the sequential writer's entries (gossip, sync as backstop). */
  liveEntriesPerSec: number
  /** From the writer's acknowledgement to the second node's `entry:added`, 99th percentile. */
  liveLagP99Ms: number
  liveLagP50Ms: number
  sequentialEntries: number
  concurrentEntries: number
  /**
   * The API's floor in the same run: one writer posting, awaiting each, a body A refuses before
   * any entry work (400), over the same client and connection; then 16 such writers at once.
   */
  refusedPostPerSec: number
  refusedPostConcurrentPerSec: number
}

/** A body `POST /v1/entries` refuses at once: its only field is unknown. */
const REFUSED_BODY = '{"bench":1}'
const REFUSED_POSTS = 3000

const CONCURRENT_WRITERS = 16

/** A member key that numbers its own entries (nodeCrypto, so signing stays out of the timed part). */
class Writer {
  readonly keys: KeyPair = generateKeyPair(nodeCrypto)
  private dag!: Dag

  open (genesisPath: string): void {
    this.dag = createDag({ genesis: decodeGenesisFile(readFileSync(genesisPath, 'utf8')), crypto: nodeCrypto })
  }

  /** JSON bodies of the next `count` entries, signed in advance. */
  bodies (count: number): Array<{ id: string, body: string }> {
    const out: Array<{ id: string, body: string }> = []
    for (let i = 0; i < count; i++) {
      const body = execRequestBody(
        { action: 'echo', resource: `bench/${i}`, target: 'zone:a', payload: { i }, nonce: `n${i}` }
      )
      const e = nextEntry(this.dag, this.keys, { type: 'exec.request', body }, nodeCrypto)
      this.dag.add(e, { verified: true })
      out.push({ id: e.id, body: JSON.stringify({ entry: toBase64(e.bytes) }) })
    }
    return out
  }
}

async function postAll (
  agent: Agent, node: NodeHandle, bodies: Array<{ id: string, body: string }>, acked?: Map<string, number>
): Promise<void> {
  for (const b of bodies) {
    // An entry the node already holds (a post sent again after a reset) is acknowledged as a duplicate.
    const { status } = await postJson(agent, node.api!, '/v1/entries', node.token!, b.body)
    if (status !== 200) throw new Error(`append refused: HTTP ${status}`)
    acked?.set(b.id, performance.now())
  }
}

/** Posts a second A refuses, REFUSED_POSTS of them from `writers` writers at once. */
async function refusedPostRate (agent: Agent, node: NodeHandle, writers: number): Promise<number> {
  const each = Math.ceil(REFUSED_POSTS / writers)
  const t0 = performance.now()
  await Promise.all(Array.from({ length: writers }, async () => {
    for (let i = 0; i < each; i++) {
      const { status } = await postJson(agent, node.api!, '/v1/entries', node.token!, REFUSED_BODY)
      if (status !== 400) throw new Error(`refused post answered HTTP ${status}`)
    }
  }))
  return Math.round(each * writers / ((performance.now() - t0) / 1000))
}

/**
 * Appends through the users' path on real node processes: signed entries POSTed to
 * `/v1/entries` of node A (connected to node B), one writer awaiting each, then 16 at once;
 * B's receipt of the sequential writer's entries gives the live replication rate and lag.
 */
export async function benchAppend (sequential = 3000, perConcurrentWriter = 500): Promise<AppendFigures> {
  const mesh = new TestMesh()
  const solo = new Writer()
  const many = Array.from({ length: CONCURRENT_WRITERS }, () => new Writer())
  const watcher = new EventWatcher()
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENT_WRITERS })
  try {
    await mesh.create({ nodes: 2, extraMembers: [solo, ...many].map(w => ({ keys: w.keys, zone: 'a' })) })
    for (const w of [solo, ...many]) w.open(mesh.genesisPath)
    const [a, b] = mesh.nodes as [NodeHandle, NodeHandle]
    await mesh.start(a)
    await mesh.start(b, { bootstrap: [a] })
    await waitFor('B to connect', async () => (await mesh.status(b)).peers >= 1, 30_000)
    await watcher.start(b.api!)
    // Warm-up (JIT, connections, the gossip mesh): a few entries until one reaches B by gossip quickly.
    const warm = solo.bodies(200)
    await postAll(agent, a, warm)
    await waitFor('warm-up entries at B', () => warm.every(w => watcher.seen.has(w.id)) ? true : undefined, 30_000, 5)

    const refusedPostPerSec = await refusedPostRate(agent, a, 1)
    const refusedPostConcurrentPerSec = await refusedPostRate(agent, a, CONCURRENT_WRITERS)

    const seqBodies = solo.bodies(sequential)
    const acked = new Map<string, number>()
    const t0 = performance.now()
    await postAll(agent, a, seqBodies, acked)
    const sequentialSeconds = (performance.now() - t0) / 1000
    await waitFor(
      'sequential entries at B', () => seqBodies.every(s => watcher.seen.has(s.id)) ? true : undefined, 60_000, 5
    )
    const lastAtB = Math.max(...seqBodies.map(s => watcher.seen.get(s.id)!))
    const lags = seqBodies.map(s => Math.max(0, watcher.seen.get(s.id)! - acked.get(s.id)!)).sort((x, y) => x - y)

    const concurrent = many.map(w => w.bodies(perConcurrentWriter))
    const t1 = performance.now()
    await Promise.all(concurrent.map(async bodies => { await postAll(agent, a, bodies) }))
    const concurrentSeconds = (performance.now() - t1) / 1000
    return {
      sequentialPerSec: Math.round(sequential / sequentialSeconds),
      concurrentPerSec: Math.round(CONCURRENT_WRITERS * perConcurrentWriter / concurrentSeconds),
      liveEntriesPerSec: Math.round(sequential / ((lastAtB - t0) / 1000)),
      liveLagP99Ms: Number(percentile(lags, 99).toFixed(2)),
      liveLagP50Ms: Number(percentile(lags, 50).toFixed(2)),
      sequentialEntries: sequential,
      concurrentEntries: CONCURRENT_WRITERS * perConcurrentWriter,
      refusedPostPerSec,
      refusedPostConcurrentPerSec
    }
  } finally {
    watcher.stop()
    agent.destroy()
    await mesh.cleanup()
  }
}

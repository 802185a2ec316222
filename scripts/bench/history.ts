import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { KeyPair } from '@govmesh/core'
import {
  createMeshLibp2p, decodeSyncMessage, encodeSyncMessage, FramedStream, readProofCar, SYNC_PROTOCOL, type MeshLibp2p
} from '@govmesh/node'
import { TestMesh, waitFor, type NodeHandle } from '../../test/helpers/cluster.js'
import { buildHistory, historyWriters, rssMbOf } from '../../test/helpers/history.js'
import { percentile } from './measure.js'

export interface HistoryFigures {
  entries: number
  rssMb: number
  heapMb: number
  restartMs: number
  ancestryP50Ms: number
  logP50Ms: number
  exportP50Ms: number
  syncServeEntriesPerSec: number
  /** Mean number of entries in the exported proofs (a proof holds the root's whole ancestry). */
  exportEntriesMean: number
  /** The parts of `rssMb`: anonymous memory, and pages of mapped files (LevelDB tables). */
  rssAnonMb: number
  rssFileMb: number
  writers: number
  ingestSeconds: number
}

/** Writer chains: the history is spread over this many member keys. */
const WRITERS = 100
/** Queries timed per kind. */
const QUERIES = 100
/**
 * Queries of each kind run untimed first, on other roots (the writers' newest entries): a node that
 * has just started still runs the query code unoptimized (V8 tiers it up as it runs, later with
 * `--optimize-for-size`), and the figures are of a node serving queries, not of its JIT's warm-up
 * (measured: the first 100 exports after a start at 250,000 entries had a p50 of 11.5-12.3 ms, the
 * same 100 after 100 others 6.3-7.0 ms). `restartMs` is the start's own cost.
 */
const WARM_UP = 5

/**
 * Loaded into the node process (`--import`): on SIGUSR2 it collects garbage and writes the heap
 * and RSS to the file named by GOVMESH_GC_PROBE, so the bench reads memory after GC without any
 * hook in the daemon.
 */
const GC_PROBE = 'data:text/javascript,' + encodeURIComponent(
  "import{writeFileSync}from'node:fs';process.on('SIGUSR2',()=>{globalThis.gc();globalThis.gc();" +
  'const m=process.memoryUsage();writeFileSync(process.env.GOVMESH_GC_PROBE,JSON.stringify({heap:m.heapUsed,rss:m.rss}))})'
)

async function memoryAfterGc (node: NodeHandle, probe: string): Promise<{ heapMb: number, rssMb: number }> {
  rmSync(probe, { force: true })
  node.proc!.kill('SIGUSR2')
  const m = await waitFor('the GC probe', () => {
    try { return JSON.parse(readFileSync(probe, 'utf8')) as { heap: number, rss: number } } catch { return undefined }
  }, 10_000)
  return { heapMb: m.heap / 2 ** 20, rssMb: m.rss / 2 ** 20 }
}

async function timed (fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

async function p50 (times: number, fn: (i: number) => Promise<void>): Promise<number> {
  const ms: number[] = []
  for (let i = 0; i < times; i++) ms.push(await timed(async () => { await fn(i) }))
  return round(percentile(ms.sort((a, b) => a - b), 50))
}

const round = (x: number): number => Math.round(x * 100) / 100

async function fetchOk (url: string): Promise<Response> {
  // A kept-alive socket the server closed meanwhile fails the request once: ask again.
  const res = await fetch(url).catch(async () => await fetch(url))
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`)
  return res
}

/** A bare libp2p peer (a member key) pulls everything with an empty frontier: the node's serving rate. */
async function syncServeRate (node: NodeHandle, meshId: string, key: KeyPair, expected: number): Promise<number> {
  let p2p: MeshLibp2p | undefined
  try {
    p2p = await createMeshLibp2p({ seed: key.secretKey, bootstrap: node.addrs })
    const peer = node.peerId
    const conn = await waitFor('a connection to the node', () => p2p!.getConnections().find(c => c.remotePeer.toString() === peer), 15_000)
    const t0 = performance.now()
    const stream = await conn.newStream(SYNC_PROTOCOL)
    const framed = new FramedStream(stream, { maxFrameBytes: 4 * 2 ** 20, readTimeoutMs: 30_000 })
    await framed.write(encodeSyncMessage({ t: 'frontier', mesh: meshId, frontier: {} }))
    let received = 0
    for (;;) {
      const frame = await framed.read()
      if (frame === undefined) break
      const msg = decodeSyncMessage(frame)
      if (msg.t === 'entries') received += msg.entries.length
      else if (msg.t === 'done') break
    }
    const seconds = (performance.now() - t0) / 1000
    if (received !== expected) throw new Error(`sync served ${received} of ${expected} entries`)
    return Math.round(received / seconds)
  } finally {
    await p2p?.stop()
  }
}

/**
 * One node ingests `n` entries through its ingest path (in this process, on its data dir), then runs as a process
 * on that store: restart time, queries, a full sync served, memory.
 */
export async function benchHistoryAt (n: number): Promise<HistoryFigures> {
  const writers = historyWriters(WRITERS)
  const mesh = new TestMesh()
  const probe = join(mesh.root, 'gc-probe.json')
  process.env.GOVMESH_GC_PROBE = probe
  try {
    await mesh.create({ nodes: 1, extraMembers: writers.map(keys => ({ keys, zone: 'a' })) })
    const node = mesh.nodes[0]!
    const t0 = performance.now()
    const written = await buildHistory(mesh, node, writers, n, { sampleEvery: Math.max(1, Math.floor(n / QUERIES)) })
    const ingestSeconds = round((performance.now() - t0) / 1000)

    const restartMs = await timed(async () => {
      await mesh.start(node, { nodeArgs: ['--expose-gc', '--import', GC_PROBE] })
      await mesh.status(node)
    })
    const status = await mesh.status(node)
    if (status.entries !== n + 1) throw new Error(`the restarted node holds ${status.entries} entries, not ${n + 1}`)

    const sample = written.sample
    const api = node.api!
    const warmUp = async (query: (id: string) => Promise<unknown>): Promise<void> => {
      for (let i = 0; i < WARM_UP; i++) await query(written.last[i % written.last.length]!)
    }
    await warmUp(async (id) => await (await fetchOk(`${api}/v1/dag/ancestry/${id}?limit=100`)).json())
    const ancestryP50Ms = await p50(QUERIES, async (i) => {
      await (await fetchOk(`${api}/v1/dag/ancestry/${sample[i % sample.length]!}?limit=100`)).json()
    })
    const authors = writers.map(w => Buffer.from(w.publicKey).toString('hex'))
    await warmUp(async () => await (await fetchOk(`${api}/v1/dag/log?limit=50&type=exec.request`)).json())
    const logP50Ms = await p50(QUERIES, async (i) => {
      const filter = i % 2 === 0 ? `&author=${authors[i % authors.length]!}` : '&type=exec.request'
      await (await fetchOk(`${api}/v1/dag/log?limit=50${filter}`)).json()
    })
    const cars: Uint8Array[] = []
    await warmUp(async (id) => await (await fetchOk(`${api}/v1/dag/export/${id}`)).arrayBuffer())
    const exportP50Ms = await p50(QUERIES, async (i) => {
      cars.push(new Uint8Array(await (await fetchOk(`${api}/v1/dag/export/${sample[i % sample.length]!}`)).arrayBuffer()))
    })
    let exportEntries = 0
    for (const car of cars) exportEntries += (await readProofCar(car)).blocks.length
    const syncServeEntriesPerSec = await syncServeRate(node, mesh.meshId, writers[0]!, n + 1)
    const { heapMb, rssMb: gcRss } = await memoryAfterGc(node, probe)
    const rssMb = Math.max(gcRss, rssMbOf(node.proc!.pid!))
    return {
      entries: n,
      rssMb: round(rssMb),
      heapMb: round(heapMb),
      restartMs: Math.round(restartMs),
      ancestryP50Ms,
      logP50Ms,
      exportP50Ms,
      syncServeEntriesPerSec,
      exportEntriesMean: Math.round(exportEntries / QUERIES),
      rssAnonMb: round(rssMbOf(node.proc!.pid!, 'RssAnon')),
      rssFileMb: round(rssMbOf(node.proc!.pid!, 'RssFile')),
      writers: WRITERS,
      ingestSeconds
    }
  } finally {
    await mesh.cleanup()
  }
}

/** The `history` suite: one figure set per history size (default 100,000 and 250,000 entries). */
export async function benchHistory (sizes: number[] = [100_000, 250_000]): Promise<HistoryFigures[]> {
  const out: HistoryFigures[] = []
  for (const n of sizes) out.push(await benchHistoryAt(n))
  return out
}

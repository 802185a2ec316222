import { readFileSync } from 'node:fs'
import {
  createEntry, decodeGenesisFile, execRequestBody, generateKeyPair, toBase64, type CID, type KeyPair, type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import type { NodeHandle, TestMesh } from './cluster.js'

/** Entries per `POST /v1/entries` (the API's limit). */
const PER_REQUEST = 100

/** Member keys held by the test that write a long history; name them in the genesis (`extraMembers`). */
export function historyWriters (count: number): KeyPair[] {
  return Array.from({ length: count }, () => generateKeyPair(nodeCrypto))
}

export interface WrittenHistory {
  /** Entries written (the node also holds the genesis). */
  entries: number
  /** A deterministic sample of the written entries' CIDs (every `sampleEvery`-th). */
  sample: string[]
  /** Each writer's last entry. */
  last: string[]
}

/**
 * Writes `total` pre-signed `exec.request` entries through a node's normal ingest path
 * (`POST /v1/entries`, 100 per request), round-robin over the writers: each chain cites its
 * prev, and its first entry the genesis. Signed here with node:crypto, without a DAG mirror,
 * so writing a long history costs the test little memory. `lanes` requests are in flight at
 * once, each for its own subset of writers (so no request waits for another's entries).
 */
export async function writeHistory (
  mesh: TestMesh, node: NodeHandle, writers: KeyPair[], total: number, opts: { sampleEvery?: number, lanes?: number } = {}
): Promise<WrittenHistory> {
  const genesis = decodeGenesisFile(readFileSync(mesh.genesisPath, 'utf8'), nodeCrypto)
  const prev: Array<CID | null> = writers.map(() => null)
  const sampleEvery = opts.sampleEvery ?? 1000
  const lanes = Math.min(opts.lanes ?? 2, writers.length)
  const sampled: Array<{ n: number, id: string }> = []
  let time = Date.now()
  const lane = async (k: number, count: number): Promise<void> => {
    const mine = writers.map((_, w) => w).filter(w => w % lanes === k)
    for (let done = 0; done < count;) {
      const batch: SignedEntry[] = []
      for (; batch.length < PER_REQUEST && done < count; done++) {
        const w = mine[done % mine.length]!
        const n = done * lanes + k
        const before = prev[w] ?? null
        const e = createEntry({
          mesh: genesis.cid, seq: Math.floor(done / mine.length) + 1, prev: before, parents: before === null ? [genesis.cid] : [],
          type: 'exec.request',
          body: execRequestBody({ action: 'echo', resource: `history/${n}`, target: 'zone:a', payload: { n }, nonce: String(n) }),
          time: ++time
        }, writers[w]!, nodeCrypto)
        prev[w] = e.cid
        batch.push(e)
        if (n % sampleEvery === sampleEvery - 1) sampled.push({ n, id: e.id })
      }
      const res = await postRetrying(mesh, node, { entries: batch.map(e => toBase64(e.bytes)) })
      const outcomes = (res.body as { results?: Array<{ status: string }> }).results
      if (res.status !== 200 || outcomes?.some(o => o.status !== 'accepted' && o.status !== 'duplicate') !== false) {
        throw new Error(`ingest failed in lane ${k}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`)
      }
    }
  }
  await Promise.all(Array.from({ length: lanes }, async (_, k) => {
    await lane(k, Math.floor(total / lanes) + (k < total % lanes ? 1 : 0))
  }))
  return {
    entries: total,
    sample: sampled.sort((a, b) => a.n - b.n).map(s => s.id),
    last: prev.filter((p): p is CID => p !== null).map(p => p.toString())
  }
}

/**
 * A kept-alive socket the server closed meanwhile (or a node slow on a loaded machine) fails a
 * request: sent again, its entries are duplicates. Gives up after three attempts.
 */
async function postRetrying (mesh: TestMesh, node: NodeHandle, body: unknown): ReturnType<TestMesh['post']> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await mesh.post(node, '/v1/entries', body)
    } catch (err) {
      if (attempt >= 3 || node.proc?.exitCode !== null) {
        throw new Error(`POST /v1/entries failed (${(err as Error).message}); node log: ${node.log.slice(-5).join('\n')}`)
      }
      await new Promise(resolve => setTimeout(resolve, 500 * attempt))
    }
  }
}

/** Resident set size of a process, in MB, from /proc. */
export function rssMbOf (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? NaN : Number(m[1]) / 1024
}

import { readFileSync } from 'node:fs'
import {
  createEntry, decodeGenesisFile, execRequestBody, generateKeyPair, type CID, type KeyPair, type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { createGovmeshNode, silentLogger, type NodeStatus } from '@govmesh/node'
import type { NodeHandle, TestMesh } from './cluster.js'

/** Entries per ingest call while a history is built. */
const PER_INGEST = 1000
/** Consecutive entries of one writer. */
const RUN = 10

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
  /** The building node's state once everything was ingested. */
  state: Pick<NodeStatus, 'heads' | 'frontier' | 'entries' | 'policyDigest'>
}

/**
 * Writes `total` signed `exec.request` entries into a stopped node's data dir through the node's
 * own code, in this process: a real {@link createGovmeshNode} on that dir (real level store,
 * real ingest: every signature checked, checkpoints written with the entries), no HTTP and no
 * peers. Round-robin over the writers, `RUN` entries each in turn; each chain cites its prev, and its first entry the
 * genesis. Afterwards the node is stopped, so the test can start it as a process on the store.
 */
export async function buildHistory (
  mesh: TestMesh, node: NodeHandle, writers: KeyPair[], total: number, opts: { sampleEvery?: number } = {}
): Promise<WrittenHistory> {
  if (node.proc !== undefined) throw new Error(`${node.name} must be stopped while its history is built`)
  const genesis = decodeGenesisFile(readFileSync(mesh.genesisPath, 'utf8'), nodeCrypto)
  const built = await createGovmeshNode({
    dataDir: node.dir, genesis, listen: ['/ip4/127.0.0.1/tcp/0'], verifyThreads: 0,
    logger: silentLogger
  })
  const prev: Array<CID | null> = writers.map(() => null)
  const seqs = writers.map(() => 0)
  const sampleEvery = opts.sampleEvery ?? 1000
  const sample: string[] = []
  let time = Date.now()
  let state: WrittenHistory['state'] | undefined
  try {
    for (let n = 0; n < total;) {
      const batch: SignedEntry[] = []
      for (; batch.length < PER_INGEST && n < total; n++) {
        // Runs of RUN entries per writer: the signer's key cache holds fewer keys than there may be writers.
        const w = Math.floor(n / RUN) % writers.length
        const before = prev[w] ?? null
        const e = createEntry({
          mesh: genesis.cid,
          seq: ++seqs[w]!,
          prev: before,
          parents: before === null ? [genesis.cid] : [],
          type: 'exec.request',
          body: execRequestBody({ action: 'echo', resource: `history/${n}`, target: 'zone:a', payload: { n }, nonce: String(n) }),
          time: ++time
        }, writers[w]!, nodeCrypto)
        prev[w] = e.cid
        batch.push(e)
        if (n % sampleEvery === sampleEvery - 1) sample.push(e.id)
      }
      // Handed over as bytes, so the node decodes and checks each signature as it would from the API.
      const outcomes = await built.ingest(batch.map(e => e.bytes), 'api')
      const refused = outcomes.find(o => o.status !== 'accepted')
      if (refused !== undefined) throw new Error(`building the history: an entry was ${JSON.stringify(refused)}`)
    }
    const { heads, frontier, entries, policyDigest } = built.status()
    state = { heads, frontier, entries, policyDigest }
  } finally {
    await built.stop()
  }
  const last = prev.filter((p): p is CID => p !== null).map(p => p.toString())
  return { entries: total, sample, last, state: state }
}

/** Resident set size of a process, in MB, from /proc (`field`: VmRSS, or its parts RssAnon, RssFile). */
export function rssMbOf (pid: number, field: 'VmRSS' | 'RssAnon' | 'RssFile' = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? NaN : Number(m[1]) / 1024
}

/**
 * A small lineage written through a real node (in this process), and what its history queries
 * answer: the schema-3 migration test compares the answers of a store written by the schema-3
 * code (every key it wrote, and its answers, in `fixtures/schema3-store.json`: made by a one-shot
 * script at commit fd7ab36, before schema 4, removed since as it would now write schema 4) with
 * the answers of the same store once migrated.
 */
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  createDag, createGenesis, encodeKeyFile, execRequestBody, keyPairFromSecret, nextEntry, toHex, type Dag,
  type KeyPair, type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import type { GovmeshNode } from '../../src/node.js'
import { logEntries, missingFor } from '../../src/history-queries.js'
import { ancestryEntries, proofBlocks } from '../../src/history-reads.js'
import { writeProofCar } from '../../src/proof-car.js'

const key = (n: number): KeyPair => keyPairFromSecret(new Uint8Array(32).fill(n), nodeCrypto)
export const fixtureGov = key(1)
export const fixtureWriters = [key(2), key(3), key(4)]
/** The node's own key: not a member, so the node writes no entry of its own. */
export const fixtureNodeKey = key(9)
export const fixtureGenesis = createGenesis({
  governors: [fixtureGov.publicKey], members: fixtureWriters.map(w => ({ key: w.publicKey, zone: 'a' })), time: 1000
}, fixtureGov, nodeCrypto)

/** Writes the node key a data dir needs. */
export function writeNodeKey (dataDir: string): void {
  writeFileSync(join(dataDir, 'node.key'), JSON.stringify(encodeKeyFile(fixtureNodeKey)), { mode: 0o600 })
}

/**
 * Three writer chains of 30 entries; every fifth entry also cites the newest entry of another
 * writer (walks cross chains); then the third writer signs a second entry at its last seq (an
 * equivocation: the twin is kept off the chain, the author cut).
 */
export function fixtureEntries (): SignedEntry[] {
  const dag: Dag = createDag({ genesis: fixtureGenesis, crypto: nodeCrypto })
  const out: SignedEntry[] = []
  let time = 2000
  const add = (keys: KeyPair, w: number, round: number, parents: SignedEntry[] = []): SignedEntry => {
    const body = execRequestBody({ action: 'echo', resource: `r/${w}/${round}`, target: 'zone:a', nonce: `${w}.${round}` })
    const e = nextEntry(dag, keys, { type: 'exec.request', body, parents: parents.map(p => p.cid), time: ++time }, nodeCrypto)
    dag.add(e, { verified: true })
    out.push(e)
    return e
  }
  for (let round = 0; round < 30; round++) {
    for (const [w, keys] of fixtureWriters.entries()) {
      const other = out.findLast(e => toHex(e.entry.author) === toHex(fixtureWriters[(w + 2) % 3]!.publicKey))
      add(keys, w, round, round % 5 === 4 && other !== undefined ? [other] : [])
    }
  }
  // A replica of the third writer's chain without its last entry signs another one at that seq.
  const w3 = toHex(fixtureWriters[2]!.publicKey)
  const fork = createDag({ genesis: fixtureGenesis, crypto: nodeCrypto })
  const chain3 = out.filter(e => toHex(e.entry.author) === w3)
  for (const e of out) if (e !== chain3.at(-1)) fork.add(e, { verified: true })
  const body = execRequestBody({ action: 'echo', resource: 'r/twin', target: 'zone:a', nonce: 'twin' })
  out.push(nextEntry(fork, fixtureWriters[2]!, { type: 'exec.request', body, time: ++time }, nodeCrypto))
  return out
}

/** What the history queries of a node answer, as plain JSON. */
export interface FixtureAnswers {
  ancestry: string[][]
  /** sha256 of each log query's JSON. */
  log: string[]
  /** sha256 of each proof CAR. */
  exports: string[]
  sync: string[][]
  status: { entries: number, heads: string[], frontier: Record<string, number> }
}

/** Roots: each writer's last entry, entries in the middle, the equivocation twin. */
export function fixtureRoots (entries: SignedEntry[]): string[] {
  return [...entries.slice(-4).map(e => e.id), entries[44]!.id, entries[13]!.id, entries[3]!.id]
}

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex')

export async function observe (node: GovmeshNode, entries: SignedEntry[]): Promise<FixtureAnswers> {
  const dag = node.dag
  const index = node.historyIndex
  const ancestry: string[][] = []
  const exports: string[] = []
  for (const root of fixtureRoots(entries)) {
    for (const opts of [{}, { limit: 100 }, { limit: 7 }, { depth: 3 }, { depth: 12, limit: 20 }]) {
      ancestry.push((await ancestryEntries(dag, index, root, opts)).map(e => e.id))
    }
    const car = writeProofCar(entries.find(e => e.id === root)!.cid, await proofBlocks(dag, index, root))
    exports.push(sha256(car))
  }
  const log: string[] = []
  const queries = [
    ...fixtureWriters.map(w => ({ author: toHex(w.publicKey), limit: 12 })),
    { type: 'exec.request', limit: 5 }, { limit: 200 }, { until: entries[2]!.entry.time, limit: 50 }
  ]
  for (const q of queries) log.push(sha256(JSON.stringify(await logEntries(dag, index, q))))
  const sync: string[][] = []
  const collect = async (remote: Record<string, number>): Promise<string[]> => {
    const ids: string[] = []
    for await (const id of missingFor(dag, index, remote)) ids.push(id)
    return ids
  }
  sync.push(await collect({}))
  sync.push(await collect(Object.fromEntries(fixtureWriters.map((w, i) => [toHex(w.publicKey), 10 * (i + 1)]))))
  const { entries: count, heads, frontier } = node.status()
  return { ancestry, log, exports, sync, status: { entries: count, heads, frontier } }
}

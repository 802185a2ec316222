import { createPublicKey, verify } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createDag, createGenesis, encodeKeyFile, execRequestBody, generateKeyPair, nextEntry, nextSealedEntries, signingBytes,
  type KeyPair, type SignedEntry
} from '@govmesh/core'
import { nodeCrypto } from '@govmesh/core/node-crypto'
import { createGovmeshNode, silentLogger, type GovmeshNode } from '@govmesh/node'
import { measure } from './measure.js'

export interface SyncFigures {
  /** With the verify pool (worker threads, the default). */
  syncEntriesPerSec: number
  rawVerifyPerSec: number
  syncToVerifyRatio: number
  /** The same sync with signatures checked on the main thread only (`verifyThreads: 0`). */
  syncEntriesPerSecOneThread: number
  syncToVerifyRatioOneThread: number
  verifyThreads: number
  entries: number
  seconds: number
  /**
   * The same sync (worker threads) of a history of sealed execution records (protocol v2), in
   * batches of `sealedBatch` under one signature, as a busy node writes them: what replication costs
   * for the lineage nodes write with sealing on (docs/LINEAGE-BATCHES.md).
   */
  syncSealedEntriesPerSec: number
  syncSealedToVerifyRatio: number
  sealedBatch: number
}

/** Records per sealed batch in the sealed history (a busy executor's batches are of this order). */
const SEALED_BATCH = 16

function dataDir (root: string, name: string, keys: KeyPair): string {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'node.key'), JSON.stringify(encodeKeyFile(keys)), { mode: 0o600 })
  return dir
}

/** A fresh node syncs N entries from a peer over real libp2p; compared with raw verify in the same run. */
export async function benchSync (count = 6_000): Promise<SyncFigures> {
  const root = mkdtempSync(join(tmpdir(), 'govmesh-bench-sync-'))
  const governor = generateKeyPair(nodeCrypto)
  const a = generateKeyPair(nodeCrypto)
  const b = generateKeyPair(nodeCrypto)
  const c = generateKeyPair(nodeCrypto)
  const writer = generateKeyPair(nodeCrypto)
  const sealer = generateKeyPair(nodeCrypto)
  const d = generateKeyPair(nodeCrypto)
  const genesis = createGenesis(
    { governors: [governor.publicKey], members: [a, b, c, d, writer, sealer].map(k => ({ key: k.publicKey, zone: 'a' })) },
    governor, nodeCrypto
  )
  const mirror = createDag({ genesis: genesis.bytes, crypto: nodeCrypto })
  const entries: SignedEntry[] = []
  for (let i = 0; i < count; i++) {
    const e = nextEntry(
      mirror, writer,
      {
        type: 'exec.request',
        body: execRequestBody(
          { action: 'echo', resource: `jobs/${i}`, target: 'zone:a', payload: { i }, nonce: String(i) }
        )
      },
      nodeCrypto
    )
    mirror.add(e, { verified: true })
    entries.push(e)
  }
  const sealedMirror = createDag({ genesis: genesis.bytes, crypto: nodeCrypto })
  const sealed: SignedEntry[] = []
  for (let i = 0; i < count; i += SEALED_BATCH) {
    const records = Array.from({ length: Math.min(SEALED_BATCH, count - i) }, (_, k) => ({
      type: 'exec.request' as const,
      body: execRequestBody(
        { action: 'echo', resource: `jobs/${i + k}`, target: 'zone:a', payload: { i: i + k }, nonce: `s${i + k}` }
      ),
      time: 1_767_225_600_000 + i + k
    }))
    for (const e of nextSealedEntries(sealedMirror, sealer, records, nodeCrypto)) {
      sealedMirror.add(e, { verified: true })
      sealed.push(e)
    }
  }
  let source: GovmeshNode | undefined
  let sealedSource: GovmeshNode | undefined
  let fresh: GovmeshNode | undefined
  try {
    source = await createGovmeshNode({ dataDir: dataDir(root, 'a', a), genesis, logger: silentLogger })
    for (let i = 0; i < entries.length; i += 500) await source.ingest(
      entries.slice(i, i + 500).map(e => e.bytes), 'api'
    )
    if (source.dag.size !== count + 1) throw new Error(`source holds ${source.dag.size} entries`)

    const sample = entries[0]!
    const message = signingBytes(sample.entry)
    const key = createPublicKey(
      { key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(sample.entry.author).toString('base64url') }, format: 'jwk' }
    )
    // Measured before every sync run and the best kept, like the syncs: one window during a neighbour's burst
    // would otherwise skew the ratio of the whole run.
    let rawVerifyPerSec = 0
    const rawVerify = (): void => {
      rawVerifyPerSec = Math.max(rawVerifyPerSec, measure(() => { verify(null, message, key, sample.entry.sig) }, 400))
    }

    const syncOnce = async (
      name: string, keys: KeyPair, verifyThreads: number | undefined, from: GovmeshNode = source!
    ): Promise<number> => {
      const t0 = performance.now()
      const node = fresh = await createGovmeshNode({
        dataDir: dataDir(root, name, keys), genesis, bootstrap: from.addrs(), logger: silentLogger, verifyThreads
      })
      const target = from.dag.size
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error(`sync incomplete: ${node.dag.size}/${target}`)) }, 120_000)
        const check = (): void => {
          if (node.dag.size >= target) { clearTimeout(timer); node.off('entry:added', check); resolve() }
        }
        node.on('entry:added', check)
        check()
      })
      const seconds = (performance.now() - t0) / 1000
      await node.stop()
      fresh = undefined
      return seconds
    }
    // Alternating, best of two each: neither mode gets all of the cold start or of a quiet moment.
    let seconds = Infinity
    let oneThreadSeconds = Infinity
    for (let round = 0; round < 2; round++) {
      rawVerify()
      oneThreadSeconds = Math.min(oneThreadSeconds, await syncOnce(`c${round}`, c, 0))
      rawVerify()
      seconds = Math.min(seconds, await syncOnce(`b${round}`, b, undefined))
    }
    // The sealed history, from a node that holds only it (best of two, with the verify workers).
    await source.stop()
    source = undefined
    sealedSource = await createGovmeshNode({ dataDir: dataDir(root, 'sealed', a), genesis, logger: silentLogger })
    for (let i = 0; i < sealed.length; i += 512) {
      await sealedSource.ingest(sealed.slice(i, i + 512).map(e => e.bytes), 'api')
    }
    if (sealedSource.dag.size !== count + 1) throw new Error(`the sealed source holds ${sealedSource.dag.size} entries`)
    let sealedSeconds = Infinity
    for (let round = 0; round < 2; round++) {
      rawVerify()
      sealedSeconds = Math.min(sealedSeconds, await syncOnce(`d${round}`, d, undefined, sealedSource))
    }
    const syncSealedEntriesPerSec = count / sealedSeconds
    const syncEntriesPerSec = count / seconds
    const syncEntriesPerSecOneThread = count / oneThreadSeconds
    return {
      syncEntriesPerSec: Math.round(syncEntriesPerSec),
      rawVerifyPerSec: Math.round(rawVerifyPerSec),
      syncToVerifyRatio: Number((syncEntriesPerSec / rawVerifyPerSec).toFixed(3)),
      syncEntriesPerSecOneThread: Math.round(syncEntriesPerSecOneThread),
      syncToVerifyRatioOneThread: Number((syncEntriesPerSecOneThread / rawVerifyPerSec).toFixed(3)),
      verifyThreads: Math.max(1, availableParallelism() - 1),
      entries: count,
      seconds: Number(seconds.toFixed(3)),
      syncSealedEntriesPerSec: Math.round(syncSealedEntriesPerSec),
      syncSealedToVerifyRatio: Number((syncSealedEntriesPerSec / rawVerifyPerSec).toFixed(3)),
      sealedBatch: SEALED_BATCH
    }
  } finally {
    await fresh?.stop()
    await source?.stop()
    await sealedSource?.stop()
    rmSync(root, { recursive: true, force: true })
  }
}
